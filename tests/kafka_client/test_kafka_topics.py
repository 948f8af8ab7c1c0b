"""ensure_topics against the real broker: creation, idempotence, short topics and rejected requests."""

from __future__ import annotations

import socket
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from structlog.testing import capture_logs

from kafka_client.security import connection_options
from kafka_client.settings import KafkaSettings
from kafka_client.topics import TopicCreationError, ensure_topics

pytestmark = pytest.mark.stack


@pytest.fixture
def options(stack) -> dict:
    return connection_options(KafkaSettings(bootstrap_servers=stack.bootstrap_servers))


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def _partition_counts(options: dict, names: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        return {entry["topic"]: len(entry["partitions"]) for entry in await admin.describe_topics(names)}
    finally:
        await admin.close()


async def test_creates_missing_topics(options):
    ticks, dead_letter = _name("topics-ticks"), _name("topics-dlq")

    created = await ensure_topics(options, {ticks: 6, dead_letter: 3})

    assert sorted(created) == sorted([ticks, dead_letter])
    assert await _partition_counts(options, [ticks, dead_letter]) == {ticks: 6, dead_letter: 3}


async def test_second_call_creates_nothing(options):
    topic = _name("topics-again")
    await ensure_topics(options, {topic: 2})

    assert await ensure_topics(options, {topic: 2}) == []


async def test_creates_only_the_missing_one(options):
    existing, missing = _name("topics-existing"), _name("topics-missing")
    await ensure_topics(options, {existing: 1})

    assert await ensure_topics(options, {existing: 1, missing: 1}) == [missing]


async def test_warns_about_fewer_partitions(options):
    topic = _name("topics-short")
    await ensure_topics(options, {topic: 2})

    with capture_logs() as logs:
        created = await ensure_topics(options, {topic: 6})

    warnings = [entry for entry in logs if entry["event"] == "kafka_topic_has_fewer_partitions"]
    assert created == []
    assert warnings[0]["topic"] == topic
    assert (warnings[0]["partitions"], warnings[0]["requested_partitions"]) == (2, 6)
    assert warnings[0]["log_level"] == "warning"


async def test_rejected_creation_raises(options):
    topic = _name("topics-rf")

    with pytest.raises(TopicCreationError, match=f"{topic} \\(1 partitions\\): InvalidReplicationFactorError"):
        await ensure_topics(options, {topic: 1}, replication_factor=3)


async def test_zero_partitions_rejected(options):
    with pytest.raises(ValueError, match="at least 1"):
        await ensure_topics(options, {_name("topics-zero"): 0})


async def test_unreachable_broker_raises():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    options = {"bootstrap_servers": f"127.0.0.1:{port}", "client_id": "topics-test"}

    with pytest.raises(TopicCreationError, match=f"cannot connect to Kafka at 127.0.0.1:{port}"):
        await ensure_topics(options, {"never-created": 1}, timeout_ms=3_000)
