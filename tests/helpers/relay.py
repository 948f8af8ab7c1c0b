"""Run the relay service against the local stack, in-process or as its own process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

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


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_service(stack, topic: str, group_id: str, log_file, **environment) -> subprocess.Popen:
    """Start `python -m service` as its own process, as ECS runs it."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("RELAY_", "KAFKA_"))}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=stack.bootstrap_servers,
        RELAY_TOPICS=topic,
        RELAY_GROUP_ID=group_id,
        RELAY_DEAD_LETTER_TOPIC=f"{topic}.dlq",
        RELAY_APPSYNC_URL=stack.graphql_url,
        RELAY_APPSYNC_API_KEY=stack.api_key,
        RELAY_OPS_HOST="127.0.0.1",
        RELAY_OPS_PORT=str(free_port()),
        RELAY_COMMIT_INTERVAL_S="0.2",
        RELAY_LOG_FORMAT="json",
    )
    env.update({name: str(value) for name, value in environment.items()})
    with open(log_file, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "service"], env=env, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[2])


async def wait_exit(process: subprocess.Popen, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise AssertionError(f"service process {process.pid} did not exit within {timeout_s} s")
        await asyncio.sleep(0.05)
    return process.returncode
