"""Run the relay service in-process against the local stack."""

from __future__ import annotations

import asyncio
import contextlib
import time

from kafka_client.settings import KafkaSettings
from service.app import run_relay
from service.metrics import RelayMetrics
from service.settings import RelaySettings


def relay_settings(stack, topic: str, group_id: str, **overrides) -> RelaySettings:
    values = dict(
        topics=topic,
        group_id=group_id,
        dead_letter_topic=f"{topic}.dlq",
        appsync_url=stack.graphql_url,
        appsync_api_key=stack.api_key,
        ops_host="127.0.0.1",
        ops_port=0,
        commit_interval_s=0.2,
        log_format="json",
    )
    values.update(overrides)
    return RelaySettings(**values)


@contextlib.asynccontextmanager
async def running_relay(stack, settings: RelaySettings):
    """Run the relay until the block ends, then stop it cleanly; yields its metrics."""
    metrics = RelayMetrics()
    stop = asyncio.Event()
    task = asyncio.create_task(run_relay(settings, KafkaSettings(bootstrap_servers=stack.bootstrap_servers),
                                         metrics, stop, handle_signals=False))
    try:
        yield metrics
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)


async def wait_for(condition, timeout_s: float, what: str, interval_s: float = 0.05) -> None:
    """Poll condition() until true; fail naming what was awaited."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
