"""Fixtures for the producer tests: connection options, fresh topics and a reader on the local broker."""

from __future__ import annotations

import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from kafka_client.security import connection_options
from kafka_client.settings import KafkaSettings
from kafka_client.topics import ensure_topics


@pytest.fixture
def kafka_options(stack) -> dict:
    return connection_options(KafkaSettings(bootstrap_servers=stack.bootstrap_servers))


@pytest.fixture
def new_topic(kafka_options):
    """Return an async function that creates a uniquely named topic and returns its name."""

    async def create(prefix: str = "producer-test", partitions: int = 1) -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        await ensure_topics(kafka_options, {name: partitions})
        return name

    return create


@pytest.fixture
def read_topic(kafka_options):
    """Return an async function that reads every record of a topic, up to its end offsets at the time of the call."""

    async def read(topic: str, timeout_s: float = 30.0) -> list:
        consumer = AIOKafkaConsumer(**kafka_options, enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            deadline = time.monotonic() + timeout_s
            partitions = consumer.partitions_for_topic(topic)
            while not partitions and time.monotonic() < deadline:
                await consumer.topics()  # refreshes the metadata of all topics
                partitions = consumer.partitions_for_topic(topic)
            assignment = [TopicPartition(topic, partition) for partition in sorted(partitions or ())]
            consumer.assign(assignment)
            await consumer.seek_to_beginning(*assignment)
            ends = await consumer.end_offsets(assignment)
            records = []
            while time.monotonic() < deadline:
                positions = {tp: await consumer.position(tp) for tp in assignment}
                if all(positions[tp] >= ends[tp] for tp in assignment):
                    return records
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
            raise TimeoutError(f"reading {topic} did not reach its end offsets {ends} within {timeout_s} s")
        finally:
            await consumer.stop()

    return read
