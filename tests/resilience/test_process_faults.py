"""The relay process killed, stopped, restarted and scaled while records stream, and a broker restart."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
import time

import pytest

from devstack.kafka import KafkaBroker
from devstack.stack import LocalStack
from helpers.kafka import create_topics_on, end_and_committed_offsets, produce_ticks, symbols
from helpers.relay import free_port, relay_settings, running_relay, start_service, wait_exit, wait_for
from subscriber.client import Subscriber
from subscriber.tally import Tally

pytestmark = pytest.mark.stack


class Recorder:
    """A subscriber callback that keeps every arrival with its partition and offset."""

    def __init__(self):
        self.tally = Tally(keep_order=True)
        self.arrivals: list[tuple[int, int]] = []

    def __call__(self, channel: str, data: dict, received_at_ms: float) -> None:
        self.tally.add(channel, data, received_at_ms)
        self.arrivals.append((data["partition"], data["offset"]))


def first_arrivals(tally: Tally) -> dict[str, list[int]]:
    return {name: list(dict.fromkeys(seqs)) for name, seqs in tally.order.items()}


async def test_sigterm_commits_acknowledged(stack, create_topic, unique_name, tmp_path):
    topic = await create_topic(unique_name, partitions=3)
    names = symbols(10)
    recorder = Recorder()
    async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, recorder) as subscriber:
        await subscriber.subscribe(names)
        await produce_ticks(stack.bootstrap_servers, topic, names, 20_000)
        service = start_service(stack, topic, unique_name, tmp_path / "relay.log", RELAY_DRAIN_BUDGET_S=5)
        await wait_for(lambda: recorder.tally.received >= 500, 60, "the first 500 messages")
        service.send_signal(signal.SIGTERM)
        started = time.monotonic()
        exit_code = await wait_exit(service, 30)
        exit_s = time.monotonic() - started
        received = list(recorder.arrivals)
    _, committed = await end_and_committed_offsets(stack.bootstrap_servers, topic, unique_name)
    uncommitted = [(partition, offset) for partition, offset in received if offset >= (committed[partition] or 0)]
    assert exit_code == 0
    assert exit_s < 5 + 10  # drain budget plus leaving the group and closing
    assert uncommitted == []


async def test_sigkill_duplicates_only_in_flight(stack, create_topic, unique_name, tmp_path):
    topic = await create_topic(unique_name, partitions=3)
    names = symbols(10)
    recorder = Recorder()
    async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, recorder) as subscriber:
        await subscriber.subscribe(names)
        sent = await produce_ticks(stack.bootstrap_servers, topic, names, 5_000)
        service = start_service(stack, topic, unique_name, tmp_path / "relay.log")
        await wait_for(lambda: recorder.tally.received >= 1_000, 60, "the first 1,000 messages")
        service.send_signal(signal.SIGKILL)
        await wait_exit(service, 10)
        _, committed_at_kill = await end_and_committed_offsets(stack.bootstrap_servers, topic, unique_name)
        # A request on the wire at the kill is still executed by the simulator,
        # so its messages arrive after the kill: wait until arrivals stop.
        await _wait_quiet(recorder, quiet_s=1.0, timeout_s=15)
        before_kill = list(recorder.arrivals)
        # Delivered but not yet committed when the process died: the only records allowed to arrive twice.
        in_flight = sum(1 for partition, offset in before_kill if offset >= (committed_at_kill[partition] or 0))

        restarted = start_service(stack, topic, unique_name, tmp_path / "relay-restarted.log")
        try:
            await wait_for(lambda: recorder.tally.unique >= 5_000, 90, "all 5,000 distinct messages")
        finally:
            restarted.send_signal(signal.SIGTERM)
            await wait_exit(restarted, 30)
    print(f"SIGKILL: {recorder.tally.duplicates} duplicates, {in_flight} records were uncommitted at the kill")
    assert recorder.tally.lost == 0
    assert first_arrivals(recorder.tally) == sent
    assert recorder.tally.duplicates <= in_flight


async def _wait_quiet(recorder: Recorder, quiet_s: float, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    count, changed_at = len(recorder.arrivals), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        if len(recorder.arrivals) != count:
            count, changed_at = len(recorder.arrivals), time.monotonic()
        elif time.monotonic() - changed_at >= quiet_s:
            return


async def test_members_join_and_leave(stack, create_topic, unique_name, tmp_path):
    """A rolling deploy: members join and leave while records stream."""
    topic = await create_topic(unique_name, partitions=6)
    names = symbols(30)
    recorder = Recorder()
    total = 9_000
    async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, recorder) as subscriber:
        await subscriber.subscribe(names)
        first = start_service(stack, topic, unique_name, tmp_path / "a.log")
        producing = asyncio.create_task(_produce_paced(stack, topic, names, total, batches=9, pause_s=1.0))
        await wait_for(lambda: recorder.tally.received >= 500, 60, "the first 500 messages")

        second = start_service(stack, topic, unique_name, tmp_path / "b.log")
        await asyncio.sleep(2)  # let the group settle with two members before the next change
        third = start_service(stack, topic, unique_name, tmp_path / "c.log")
        await asyncio.sleep(2)

        first.send_signal(signal.SIGTERM)
        first_exit = await wait_exit(first, 40)
        await asyncio.sleep(2)
        second.send_signal(signal.SIGTERM)
        second_exit = await wait_exit(second, 40)
        sent = await producing

        try:
            await wait_for(lambda: recorder.tally.unique >= total, 120, f"all {total} distinct messages")
        finally:
            third.send_signal(signal.SIGTERM)
            third_exit = await wait_exit(third, 40)
    print(f"rolling deploy: {recorder.tally.duplicates} duplicates over 4 membership changes")
    assert recorder.tally.lost == 0
    assert first_arrivals(recorder.tally) == sent
    assert (first_exit, second_exit, third_exit) == (0, 0, 0)
    # Each handover drains the revoked partitions before committing, so at
    # most one batch per partition per change may repeat.
    assert recorder.tally.duplicates <= 6 * 50 * 4


async def _produce_paced(stack, topic, names, total, batches, pause_s):
    sent: dict[str, list[int]] = {name: [] for name in names}
    per_batch = total // batches
    for _ in range(batches):
        part = await produce_ticks(stack.bootstrap_servers, topic, names, per_batch,
                                   start_seq={name: len(seqs) + 1 for name, seqs in sent.items()})
        for name, seqs in part.items():
            sent[name].extend(seqs)
        await asyncio.sleep(pause_s)
    return sent


@pytest.fixture
def private_broker(stack, tmp_path):
    """A broker of this test's own, so restarting it disturbs no other test."""
    shared = LocalStack().kafka
    config = dataclasses.replace(LocalStack().config, state_dir=tmp_path, kafka_port=free_port(),
                                 kafka_controller_port=free_port())
    broker = KafkaBroker(config)
    broker.home.mkdir(parents=True)
    broker.libs_dir.symlink_to(shared.libs_dir)
    broker.start()
    yield broker
    broker.stop()


async def test_broker_restart(stack, private_broker, unique_name):
    bootstrap_servers = private_broker.config.bootstrap_servers
    await create_topics_on(bootstrap_servers, unique_name, partitions=3)
    names = symbols(10)
    tally = Tally(keep_order=True)
    broker_stack = dataclasses.replace(stack, bootstrap_servers=bootstrap_servers)
    settings = relay_settings(broker_stack, unique_name, unique_name)
    async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, tally.add) as subscriber:
        await subscriber.subscribe(names)
        async with running_relay(broker_stack, settings):
            before = await produce_ticks(bootstrap_servers, unique_name, names, 1_000)
            await wait_for(lambda: tally.unique >= 1_000, 60, "the messages sent before the restart")
            await asyncio.to_thread(private_broker.stop)
            await asyncio.to_thread(private_broker.start)
            after = await produce_ticks(bootstrap_servers, unique_name, names, 1_000,
                                        start_seq={name: len(seqs) + 1 for name, seqs in before.items()})
            await wait_for(lambda: tally.unique >= 2_000, 120, "the messages sent after the restart")
    assert first_arrivals(tally) == {name: before[name] + after[name] for name in names}
