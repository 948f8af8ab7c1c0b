"""Produce ticks and read offsets on the local broker."""

from __future__ import annotations

import json
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


def symbols(count: int) -> list[str]:
    """Channel names unique to this call, so concurrent runs on one simulator never see each other's messages."""
    prefix = uuid.uuid4().hex[:6].upper()
    return [f"{prefix}-SYM{index:03d}" for index in range(count)]


async def produce_ticks(bootstrap_servers: str, topic: str, symbol_names: list[str], count: int,
                        start_seq: dict[str, int] | None = None) -> dict[str, list[int]]:
    """Produce `count` ticks round-robin over the symbols, keyed by symbol; return the seqs sent per symbol."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    sent: dict[str, list[int]] = {symbol: [] for symbol in symbol_names}
    next_seq = dict(start_seq or {})
    try:
        futures = []
        for index in range(count):
            symbol = symbol_names[index % len(symbol_names)]
            seq = next_seq.get(symbol, 1)
            next_seq[symbol] = seq + 1
            value = {"symbol": symbol, "ts": int(time.time() * 1000), "close": 100 + index % 7, "seq": seq}
            futures.append(await producer.send(topic, json.dumps(value).encode(), key=symbol.encode()))
            sent[symbol].append(seq)
        for future in futures:
            await future
    finally:
        await producer.stop()
    return sent


async def send_raw(bootstrap_servers: str, topic: str, records: list[tuple[bytes | None, bytes | None]], partition: int = 0) -> None:
    """Produce (key, value) pairs to one partition, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key, partition=partition)
    finally:
        await producer.stop()


async def end_and_committed_offsets(bootstrap_servers: str, topic: str, group_id: str) -> tuple[dict[int, int], dict[int, int | None]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        ends = await consumer.end_offsets(partitions)
        committed = {tp.partition: await consumer.committed(tp) for tp in partitions}
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}, committed


def committed_positions(committed: dict[int, int | None]) -> dict[int, int]:
    """Committed offsets with 0 for partitions that never had a commit, such as an empty partition."""
    return {partition: offset or 0 for partition, offset in committed.items()}


async def read_all(bootstrap_servers: str, topic: str, timeout_s: float = 10.0) -> list:
    """Read every record of a topic from the beginning, without a group."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.assignment()
        deadline = time.monotonic() + timeout_s
        while not partitions and time.monotonic() < deadline:
            await consumer.getmany(timeout_ms=100)
            partitions = consumer.assignment()
        ends = await consumer.end_offsets(list(partitions))
        records = []
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
            positions = {tp: await consumer.position(tp) for tp in partitions}
            if all(positions[tp] >= ends[tp] for tp in partitions):
                break
        return records
    finally:
        await consumer.stop()


async def create_topics(stack, name: str, partitions: int) -> str:
    """Create a topic and its dead-letter topic (name + ".dlq"); for fixtures wider than one test."""
    return await create_topics_on(stack.bootstrap_servers, name, partitions)


async def create_topics_on(bootstrap_servers: str, name: str, partitions: int) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name=name, num_partitions=partitions, replication_factor=1),
                                   NewTopic(name=f"{name}.dlq", num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    return name
