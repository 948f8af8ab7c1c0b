"""Shared fixtures: the local stack (a real Kafka broker and the AppSync simulator)."""

from __future__ import annotations

import logging
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devstack.stack import Endpoints, LocalStack

# gql logs every WebSocket frame at INFO, which buries a failure's report.
logging.getLogger("gql").setLevel(logging.WARNING)


@pytest.fixture(scope="session")
def stack() -> Endpoints:
    """Start the local stack unless it runs; stop at the end only the parts this session started."""
    local_stack = LocalStack()
    running_before = any(local_stack.status().values())
    local_stack.start()
    yield local_stack.endpoints
    if not running_before:
        local_stack.stop()


@pytest.fixture
def unique_name(request) -> str:
    """A topic or group name unique to this test."""
    return f"{request.node.name[:40].replace('[', '-').replace(']', '')}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def create_topic(stack: Endpoints):
    """Return an async function that creates a topic and its dead-letter topic (name + ".dlq") on the local broker."""

    async def create(name: str, partitions: int = 1, with_dead_letter: bool = True) -> str:
        topics = [NewTopic(name=name, num_partitions=partitions, replication_factor=1)]
        if with_dead_letter:
            topics.append(NewTopic(name=f"{name}.dlq", num_partitions=1, replication_factor=1))
        admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap_servers)
        await admin.start()
        try:
            await admin.create_topics(topics)
        finally:
            await admin.close()
        return name

    return create
