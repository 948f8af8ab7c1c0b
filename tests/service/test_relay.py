"""The relay end to end: real broker, real AppSync simulator, a real WebSocket subscriber."""

from __future__ import annotations

import pytest

from helpers.kafka import committed_positions, end_and_committed_offsets, produce_ticks, symbols
from helpers.relay import relay_settings, running_relay, wait_for
from subscriber.client import Subscriber
from subscriber.tally import Tally

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("ordering, batch_max_records", [("partition", 50), ("partition", 1), ("key", 50), ("key", 1)])
async def test_each_record_once_in_order(stack, create_topic, unique_name, ordering, batch_max_records):
    topic = await create_topic(unique_name, partitions=6)
    names = symbols(50)
    tally = Tally(keep_order=True)
    async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, tally.add) as subscriber:
        await subscriber.subscribe(names)
        sent = await produce_ticks(stack.bootstrap_servers, topic, names, 5_000)
        settings = relay_settings(stack, topic, unique_name, ordering=ordering, batch_max_records=batch_max_records)
        async with running_relay(stack, settings):
            await wait_for(lambda: tally.received >= 5_000, 120, "5,000 messages at the subscriber")
            ends, _ = await end_and_committed_offsets(stack.bootstrap_servers, topic, unique_name + "-probe")
    assert tally.order == sent
    _, committed = await end_and_committed_offsets(stack.bootstrap_servers, topic, unique_name)
    assert committed_positions(committed) == ends


async def test_restart_publishes_nothing_twice(stack, create_topic, unique_name):
    topic = await create_topic(unique_name, partitions=3)
    names = symbols(10)
    tally = Tally(keep_order=True)
    settings = relay_settings(stack, topic, unique_name)
    async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, tally.add) as subscriber:
        await subscriber.subscribe(names)
        first = await produce_ticks(stack.bootstrap_servers, topic, names, 500)
        async with running_relay(stack, settings):
            await wait_for(lambda: tally.received >= 500, 60, "the first 500 messages")
        second = await produce_ticks(stack.bootstrap_servers, topic, names, 200,
                                     start_seq={name: len(seqs) + 1 for name, seqs in first.items()})
        async with running_relay(stack, settings):
            await wait_for(lambda: tally.received >= 700, 60, "the next 200 messages")
    assert tally.order == {name: first[name] + second[name] for name in names}
