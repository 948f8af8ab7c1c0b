"""The CLI, run as `python -m producer` in a subprocess against the real broker."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from producer.sources.synthetic import synthetic_symbols


def _run(*args: str, env: dict | None = None, timeout_s: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "producer", *args], capture_output=True, text=True, timeout=timeout_s, env=env)


def _env(**variables: str) -> dict:
    env = {name: value for name, value in os.environ.items() if not name.startswith("KAFKA_")}
    env.update(variables)
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_help_lists_commands():
    result = _run("--help")

    assert result.returncode == 0
    assert "create-topics" in result.stdout


def test_send_help_lists_pace_options():
    result = _run("send", "--help")

    assert "--rate" in result.stdout
    assert "--interval" in result.stdout


def test_missing_bootstrap_servers_exits_2():
    result = _run("send", "--max-records", "1", env=_env())

    assert result.returncode == 2
    assert "KAFKA_BOOTSTRAP_SERVERS is missing" in result.stderr


def test_rate_and_interval_exclusive():
    result = _run("send", "--rate", "5", "--interval", "1")

    assert result.returncode == 2


@pytest.mark.stack
async def test_send_replay_json_summary(stack, new_topic, read_topic):
    topic = await new_topic("cli-send")

    result = _run(
        "send",
        "--topic",
        topic,
        "--interval",
        "0",
        "--max-records",
        "12",
        "--json",
        env=_env(KAFKA_BOOTSTRAP_SERVERS=stack.bootstrap_servers),
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["acknowledged"] == 12
    assert "acknowledged 12" in result.stderr
    assert len(await read_topic(topic)) == 12


def test_send_unreachable_exits_1():
    result = _run(
        "send",
        "--max-records",
        "3",
        "--interval",
        "0",
        "--request-timeout-ms",
        "2000",
        "--bootstrap-servers",
        f"127.0.0.1:{_free_port()}",
        env=_env(),
    )

    assert result.returncode == 1
    assert "failed 3 records (keys ^GSPC, ^IXIC)" in result.stderr


@pytest.mark.stack
async def test_send_shows_progress(stack, new_topic):
    topic = await new_topic("cli-progress")

    result = _run(
        "send",
        "--source",
        "synthetic",
        "--topic",
        topic,
        "--rate",
        "200",
        "--duration",
        "2.5",
        "--progress",
        env=_env(KAFKA_BOOTSTRAP_SERVERS=stack.bootstrap_servers),
    )

    assert result.returncode == 0, result.stderr
    assert "(target 200/s)" in result.stderr
    assert "sent 500, acknowledged 500, failed 0" in result.stderr


@pytest.mark.stack
async def test_send_serves_metrics(stack, new_topic):
    topic = await new_topic("cli-metrics")
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "producer",
            "send",
            "--source",
            "synthetic",
            "--topic",
            topic,
            "--rate",
            "100",
            "--duration",
            "20",
            "--metrics-port",
            str(port),
        ],
        env=_env(KAFKA_BOOTSTRAP_SERVERS=stack.bootstrap_servers),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        text = ""
        while time.monotonic() < deadline and "producer_records_acknowledged_total 1" not in text:
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                await asyncio.sleep(0.2)  # the server is not up yet
    finally:
        process.terminate()
        returncode = process.wait(timeout=30)

    assert "producer_send_latency_seconds_bucket" in text
    assert "producer_records_acknowledged_total 1" in text
    assert returncode == 0


@pytest.mark.stack
async def test_create_topics_idempotent(stack, kafka_options):
    topic = f"cli-topics-{os.getpid()}-{time.monotonic_ns()}"
    env = _env(KAFKA_BOOTSTRAP_SERVERS=stack.bootstrap_servers)

    first = _run("create-topics", "--topic", topic, "--dead-letter-topic", topic + ".dlq", env=env)
    second = _run("create-topics", "--topic", topic, "--dead-letter-topic", topic + ".dlq", env=env)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [f"created {topic} (requested 6 partitions)", f"created {topic}.dlq (requested 3 partitions)"]
    assert second.stdout.splitlines() == [f"exists {topic} (requested 6 partitions)", f"exists {topic}.dlq (requested 3 partitions)"]


@pytest.mark.stack
async def test_create_topics_per_symbol(stack):
    prefix = f"cli-per-symbol-{time.monotonic_ns()}."

    result = _run(
        "create-topics",
        "--topic-per-symbol",
        "--topic-prefix",
        prefix,
        "--source",
        "synthetic",
        "--symbol-count",
        "3",
        "--partitions",
        "1",
        "--dead-letter-topic",
        prefix + "dlq",
        env=_env(KAFKA_BOOTSTRAP_SERVERS=stack.bootstrap_servers),
    )

    assert result.returncode == 0, result.stderr
    assert [line.split()[1] for line in result.stdout.splitlines()] == [prefix + name for name in synthetic_symbols(3)] + [prefix + "dlq"]
