"""The ceiling: aiokafka reads a topic from its beginning to its end offsets and does nothing with the records.

Run as its own process, so its CPU time and memory are its own:

    python -m benchmarks.limit --bootstrap-servers 127.0.0.1:19092 --topic T

Prints one JSON line: records read, the window from the first fetch to the
last record (time.monotonic()), the CPU seconds of this process in that window, and
its peak resident memory. The consumer has no group and is assigned every
partition by hand, with aiokafka's default fetch settings, as the relay uses.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from benchmarks.procstat import memory_kib


async def read_topic(bootstrap_servers: str, topic: str, max_records: int | None) -> dict:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, partition) for partition in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            raise SystemExit(f"topic {topic!r} has no partitions in the broker's metadata; create and fill it first")
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        target = sum(ends.values()) if max_records is None else min(max_records, sum(ends.values()))
        count = 0
        # The window opens with the first fetch, as the relay's opens when it is assigned its partitions.
        first_at, cpu_first = time.monotonic(), time.process_time()
        while count < target:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                count += len(records)
        last_at, cpu_last = time.monotonic(), time.process_time()
    finally:
        await consumer.stop()
    memory = memory_kib_self()
    return {
        "records": count,
        "first_at": first_at,
        "last_at": last_at,
        "cpu_s": cpu_last - cpu_first,
        "hwm_kib": memory.get("VmHWM"),
    }


def memory_kib_self() -> dict[str, int]:
    import os

    return memory_kib(os.getpid())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.limit", description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--max-records", type=int, help="stop after this many records (default: the whole topic)")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(read_topic(args.bootstrap_servers, args.topic, args.max_records))
    else:
        result = uvloop.run(read_topic(args.bootstrap_servers, args.topic, args.max_records))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
