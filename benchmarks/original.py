"""The original design: a plain consumer loop that sends one synchronous `publish` request per record.

This reproduces the consumer Lambda of the AWS sample this project grew
from: for every record it decodes the value, builds a `publish` mutation for
that one record and POSTs it with `requests`, waiting for the response
before it looks at the next record. As in that Lambda, each POST is a plain
`requests.post`, without a shared session, so every record opens a new TCP
connection. Kafka records come from an aiokafka consumer assigned every
partition from the beginning, because kafka-python is not installed here.
The blocking POST stalls its event loop as it stalls a Lambda.

    python -m benchmarks.original --bootstrap-servers B --topic T --url U --max-records 5000

Prints one JSON line with the records published, the window from the first
fetch to the last acknowledgement (time.monotonic()), the CPU seconds of this
process in that window and its peak resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

import requests
from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.procstat import memory_kib

PUBLISH_ONE = "mutation Publish($name: String!, $data: AWSJSON!) { publish(name: $name, data: $data) { name data } }"


def publish_one(url: str, api_key: str, record) -> None:
    """Publish one record the way the original Lambda did, raising on any failure."""
    value = json.loads(record.value)
    payload = {"query": PUBLISH_ONE, "variables": {"name": record.key.decode(), "data": json.dumps(value)}}
    response = requests.post(url, json=payload, headers={"x-api-key": api_key}, timeout=10)
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"the endpoint rejected the record at {record.topic}/{record.partition}@{record.offset}: {body['errors']}")


async def relay_records(bootstrap_servers: str, topic: str, url: str, api_key: str, max_records: int) -> dict:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, partition) for partition in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            raise SystemExit(f"topic {topic!r} has no partitions in the broker's metadata; create and fill it first")
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        count = 0
        first_at, cpu_first = time.monotonic(), time.process_time()
        while count < max_records:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    if count >= max_records:
                        break
                    publish_one(url, api_key, record)
                    count += 1
        last_at, cpu_last = time.monotonic(), time.process_time()
    finally:
        await consumer.stop()
    return {
        "records": count,
        "first_at": first_at,
        "last_at": last_at,
        "cpu_s": cpu_last - cpu_first,
        "hwm_kib": memory_kib(os.getpid()).get("VmHWM"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.original", description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--url", required=True, help="GraphQL endpoint URL on 127.0.0.1")
    parser.add_argument("--api-key", default="bench-key", help="sent as x-api-key")
    parser.add_argument("--max-records", type=int, required=True, help="records to publish before stopping")
    args = parser.parse_args(argv)
    result = asyncio.run(relay_records(args.bootstrap_servers, args.topic, args.url, args.api_key, args.max_records))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
