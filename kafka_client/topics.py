"""Create topics idempotently with the Kafka admin API."""

from __future__ import annotations

import asyncio
from typing import Mapping

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

log = structlog.get_logger(__name__)

DEFAULT_ADMIN_TIMEOUT_MS = 30_000


class TopicCreationError(RuntimeError):
    """The brokers could not be reached, or they rejected the creation of a topic."""


async def ensure_topics(
    options: dict,
    topics: dict[str, int],
    replication_factor: int = 1,
    *,
    timeout_ms: int = DEFAULT_ADMIN_TIMEOUT_MS,
) -> list[str]:
    """Create the topics in `topics` (name to partition count) that do not exist; return the names created.

    An existing topic is left as it is. When it has fewer partitions than
    requested, a warning names it, because per-key ordering would change if
    partitions were added, so adding them is left to an operator. Raises
    TopicCreationError when no broker responds within `timeout_ms` or the
    broker rejects a creation.
    """
    for name, partitions in topics.items():
        if partitions < 1:
            raise ValueError(f"topic {name!r} requests {partitions} partitions; request at least 1")

    admin = AIOKafkaAdminClient(**options, request_timeout_ms=timeout_ms)
    try:
        await asyncio.wait_for(admin.start(), timeout=timeout_ms / 1000)
    except (KafkaError, OSError, TimeoutError) as error:
        await admin.close()
        raise TopicCreationError(
            f"cannot connect to Kafka at {options.get('bootstrap_servers')} within {timeout_ms} ms ({type(error).__name__}: {error}); "
            "check KAFKA_BOOTSTRAP_SERVERS and that the brokers are reachable"
        ) from error
    try:
        existing = await _partition_counts(admin, topics)
        _warn_about_short_topics(existing, topics)

        missing = {name: partitions for name, partitions in topics.items() if name not in existing}
        if not missing:
            return []
        new_topics = [
            NewTopic(name=name, num_partitions=partitions, replication_factor=replication_factor) for name, partitions in missing.items()
        ]
        response = await admin.create_topics(new_topics, timeout_ms=timeout_ms)
        created = _created_topics(response, missing)
    finally:
        await admin.close()

    for name in created:
        log.info("kafka_topic_created", topic=name, partitions=missing[name], replication_factor=replication_factor)
    return created


async def _partition_counts(admin: AIOKafkaAdminClient, topics: Mapping[str, int]) -> dict[str, int]:
    # list_topics sends a metadata request for all topics. Naming the topics in
    # that request would let a broker with auto-creation on create them with
    # its default partition count.
    present = set(await admin.list_topics()) & set(topics)
    if not present:
        return {}
    return {entry["topic"]: len(entry["partitions"]) for entry in await admin.describe_topics(sorted(present)) if entry["error_code"] == 0}


def _warn_about_short_topics(existing: Mapping[str, int], requested: Mapping[str, int]) -> None:
    for name, partitions in existing.items():
        if partitions < requested[name]:
            log.warning(
                "kafka_topic_has_fewer_partitions",
                topic=name,
                partitions=partitions,
                requested_partitions=requested[name],
                fix=f"add partitions with kafka-topics.sh --alter --topic {name} --partitions {requested[name]}, "
                "knowing that keys then move to other partitions",
            )


def _created_topics(response, requested: Mapping[str, int]) -> list[str]:
    created = []
    rejected = []
    # CreateTopics v0 returns (topic, error_code); v1 and later add error_message.
    for topic_error in response.topic_errors:
        name, error_code = topic_error[0], topic_error[1]
        message = topic_error[2] if len(topic_error) > 2 else None
        if error_code == 0:
            created.append(name)
        elif error_code == TopicAlreadyExistsError.errno:
            # Another client created it between our metadata request and ours.
            log.info("kafka_topic_exists", topic=name)
        else:
            error = for_code(error_code)
            rejected.append(f"{name} ({requested.get(name)} partitions): {error.__name__}: {message or error.description}")
    if rejected:
        raise TopicCreationError("the broker rejected creating topics: " + "; ".join(rejected))
    return created
