"""The local stack: a real broker round trip, idempotent start, a clean stop, clear errors."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devstack import toolchain
from devstack.processes import StackError, is_alive, port_is_open, read_pid
from devstack.stack import LocalStack
from helpers.relay import free_port

pytestmark = pytest.mark.stack


async def test_broker_round_trip(stack, create_topic, unique_name):
    topic = await create_topic(unique_name, with_dead_letter=False)
    producer = AIOKafkaProducer(bootstrap_servers=stack.bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b'{"symbol": "AAPL"}', key=b"AAPL")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=stack.bootstrap_servers, auto_offset_reset="earliest")
    await consumer.start()
    try:
        record = await consumer.getone()
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"AAPL", b'{"symbol": "AAPL"}')


async def test_auto_topic_creation_off(stack, unique_name):
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap_servers)
    await consumer.start()
    try:
        topics = await consumer.topics()
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(unique_name)
    finally:
        await consumer.stop()
    assert unique_name not in topics
    assert partitions is None


@pytest.fixture(scope="module")
def private_stack(tmp_path_factory):
    """A whole second stack on free ports, so stopping it leaves the shared one alone."""
    shared = LocalStack()
    config = dataclasses.replace(
        shared.config, state_dir=tmp_path_factory.mktemp("devstack"), kafka_port=free_port(),
        kafka_controller_port=free_port(), appsync_port=free_port(), web_port=free_port(), prometheus_port=free_port(),
    )
    local_stack = LocalStack(config)
    local_stack.kafka.home.mkdir(parents=True)
    local_stack.kafka.libs_dir.symlink_to(shared.kafka.libs_dir)
    first = local_stack.start()
    second = local_stack.start()
    pids = {name: read_pid(part.pid_file) for name, part in local_stack.parts()}
    stopped = local_stack.stop()
    ports = [config.kafka_port, config.kafka_controller_port, config.appsync_port, config.web_port, config.prometheus_port]
    return {"first": first, "second": second, "pids": pids, "stopped": stopped, "ports": ports}


def test_start_twice_reuses_parts(private_stack):
    assert max(private_stack["second"].values()) < 1.0


def test_start_twice_same_processes(private_stack):
    assert all(pid is not None for pid in private_stack["pids"].values())


def test_stop_stops_every_part(private_stack):
    assert sorted(private_stack["stopped"]) == ["appsync", "kafka", "prometheus", "web"]


def test_stop_leaves_no_process(private_stack):
    assert [pid for pid in private_stack["pids"].values() if is_alive(pid)] == []


def test_stop_leaves_no_bound_port(private_stack):
    assert [port for port in private_stack["ports"] if port_is_open("127.0.0.1", port)] == []


def test_missing_java_names_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError, match="install a JDK 17"):
        toolchain.require("java", min_major=17)


def test_missing_node_names_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError, match="install Node.js 20"):
        toolchain.require("node", min_major=20)


@pytest.fixture
def start_without_maven(tmp_path):
    """Run `python -m devstack start` with only java on PATH and an empty state directory."""
    env = dict(os.environ, PATH=str(tmp_path), DEVSTACK_HOME=str(tmp_path / "state"),
               DEVSTACK_KAFKA_PORT=str(free_port()), DEVSTACK_KAFKA_CONTROLLER_PORT=str(free_port()))
    java = subprocess.run(["bash", "-c", "command -v java"], capture_output=True, text=True).stdout.strip()
    os.symlink(java, tmp_path / "java")
    return subprocess.run([sys.executable, "-m", "devstack", "start"], env=env, capture_output=True, text=True, timeout=120)


def test_cli_missing_maven_exit_code(start_without_maven):
    assert start_without_maven.returncode == 1


def test_cli_missing_maven_message(start_without_maven):
    assert "install Apache Maven" in start_without_maven.stderr


def test_cli_missing_maven_no_traceback(start_without_maven):
    assert "Traceback" not in start_without_maven.stderr
