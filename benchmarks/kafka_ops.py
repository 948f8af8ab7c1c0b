"""Kafka set-up for the benchmarks: topics, end offsets, committed offsets, and filling a topic with the producer CLI."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.protocol.admin import DeleteGroupsRequest_v1

from devstack.config import REPO_ROOT
from kafka_client.topics import ensure_topics

SYMBOL_COUNT = 100
# Kafka's GROUP_ID_NOT_FOUND error code: the group is gone already, which is what deleting it wants.
_GROUP_ID_NOT_FOUND = 69


def create_topics(bootstrap_servers: str, topics: dict[str, int]) -> None:
    """Create each topic (name to partition count) that does not exist yet."""
    asyncio.run(ensure_topics({"bootstrap_servers": bootstrap_servers}, topics))


def delete_topics(bootstrap_servers: str, names: list[str]) -> None:
    """Delete the benchmark's own topics, so repeated runs do not fill the broker's disk."""
    if names:
        asyncio.run(_delete_topics(bootstrap_servers, names))


async def _delete_topics(bootstrap_servers: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        present = [name for name in names if name in existing]
        if present:
            await admin.delete_topics(present)
    finally:
        await admin.close()


def delete_groups(bootstrap_servers: str, group_ids: list[str]) -> list[str]:
    """Delete the benchmark's own consumer groups; return those the broker did not delete, with the reason."""
    if not group_ids:
        return []
    return asyncio.run(_delete_groups(bootstrap_servers, group_ids))


async def _delete_groups(bootstrap_servers: str, group_ids: list[str]) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        by_coordinator: dict[int, list[str]] = {}
        for group_id in group_ids:
            by_coordinator.setdefault(await admin.find_coordinator(group_id), []).append(group_id)
        failures = []
        for node_id, groups in by_coordinator.items():
            # aiokafka 0.12's admin client has no delete_consumer_groups, so send DeleteGroups (API key 42) directly.
            response = await admin._send_request_to_node(node_id, DeleteGroupsRequest_v1(groups_names=groups))
            failures += [f"{group_id} (error code {code})" for group_id, code in response.results
                         if code not in (0, _GROUP_ID_NOT_FOUND)]
    finally:
        await admin.close()
    return failures


def end_offsets(bootstrap_servers: str, topic: str) -> dict[int, int]:
    """Return each partition's end offset (high watermark)."""
    return asyncio.run(_end_offsets(bootstrap_servers, topic))


async def _end_offsets(bootstrap_servers: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topic)
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


def committed_offsets(bootstrap_servers: str, topic: str, group_id: str) -> dict[int, int]:
    """Return the group's committed offset per partition of `topic`; partitions without a commit are left out."""
    return asyncio.run(_committed_offsets(bootstrap_servers, topic, group_id))


async def _committed_offsets(bootstrap_servers: str, topic: str, group_id: str) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0}


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return [TopicPartition(topic, partition) for partition in sorted(partitions)]
        try:
            await consumer._client.force_metadata_update()
        except KafkaError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic!r} has no partitions in the broker's metadata after 10 s; was it created?")


@dataclass(frozen=True)
class ProducerRun:
    acknowledged: int
    failed: int
    elapsed_s: float


def run_producer(bootstrap_servers: str, topic: str, *, records: int | None = None, rate: float | None = None,
                 duration_s: float | None = None, seed: int = 1, log_path=None) -> ProducerRun:
    """Send synthetic ticks of SYMBOL_COUNT symbols with `python -m producer send` and wait until it exits.

    Give `records` alone to send as fast as the producer can, or `rate` and
    `duration_s` for a paced run.
    """
    command = [
        sys.executable, "-m", "producer", "send", "--bootstrap-servers", bootstrap_servers,
        "--source", "synthetic", "--symbol-count", str(SYMBOL_COUNT), "--topic", topic,
        "--seed", str(seed), "--json", "--no-progress", "--log-level", "WARNING",
    ]
    if rate is not None:
        command += ["--rate", f"{rate:g}"]
    else:
        command += ["--interval", "0"]
    if records is not None:
        command += ["--max-records", str(records)]
    if duration_s is not None:
        command += ["--duration", f"{duration_s:g}"]
    started = time.monotonic()
    with open(log_path or "/dev/null", "ab") as log:
        result = subprocess.run(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=log, check=False)
    elapsed = time.monotonic() - started
    lines = result.stdout.decode().strip().splitlines()
    try:
        summary = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(f"the producer exited with code {result.returncode} and printed no JSON summary; see {log_path}") from None
    return ProducerRun(acknowledged=summary["acknowledged"], failed=summary["failed"], elapsed_s=elapsed)


def start_producer(bootstrap_servers: str, topic: str, *, rate: float, duration_s: float, seed: int = 1, log_path=None) -> subprocess.Popen:
    """Start a paced producer in the background; read its JSON summary with producer_result()."""
    command = [
        sys.executable, "-m", "producer", "send", "--bootstrap-servers", bootstrap_servers,
        "--source", "synthetic", "--symbol-count", str(SYMBOL_COUNT), "--topic", topic,
        "--seed", str(seed), "--json", "--no-progress", "--log-level", "WARNING",
        "--rate", f"{rate:g}", "--duration", f"{duration_s:g}",
    ]
    log = open(log_path or "/dev/null", "ab")
    try:
        return subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=log)
    finally:
        log.close()


def producer_result(process: subprocess.Popen, timeout_s: float) -> ProducerRun:
    stdout, _ = process.communicate(timeout=timeout_s)
    lines = stdout.decode().strip().splitlines()
    try:
        summary = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise RuntimeError(f"the producer exited with code {process.returncode} and printed no JSON summary") from None
    return ProducerRun(acknowledged=summary["acknowledged"], failed=summary["failed"], elapsed_s=summary.get("elapsed_s", 0.0))
