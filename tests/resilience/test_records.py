"""Bad records and per-record AppSync errors: dead-lettered with a reason, never stalling the partition."""

from __future__ import annotations

import json
import uuid

import pytest

from helpers.fault_proxy import FaultProxy, channels_of, data_of, graphql_error
from helpers.kafka import committed_positions, end_and_committed_offsets, read_all, send_raw
from helpers.relay import relay_settings, running_relay, wait_for
from subscriber.client import Subscriber
from subscriber.tally import Tally

pytestmark = pytest.mark.stack


# Unique per run, so other tests publishing to the same simulator never reach these subscribers.
SYMBOL = f"AAPL-{uuid.uuid4().hex[:6]}"


def tick(symbol: str, seq: int) -> tuple[bytes, bytes]:
    return symbol.encode(), json.dumps({"symbol": symbol, "seq": seq, "close": 10.0 + seq}).encode()


POISON = {
    "not_utf8": (b"AAPL", b'{"symbol": "AAPL", "x": "\xff\xfe"}'),
    "truncated_json": (b"AAPL", b'{"symbol": "AAPL", "seq": '),
    "tombstone": (b"AAPL", None),
    "wrong_shape": (b"AAPL", b'[1, 2, 3]'),
    "oversized": (b"AAPL", json.dumps({"symbol": "AAPL", "blob": "x" * 300_000}).encode()),
    # Valid JSON that Python's parser rejects: more than 4300 digits.
    "huge_integer": (b"AAPL", b'{"symbol": "AAPL", "n": ' + b"1" * 5000 + b"}"),
}
EXPECTED_REASONS = {"not_utf8": "decode", "truncated_json": "decode", "tombstone": "tombstone",
                    "wrong_shape": "decode", "oversized": "payload_too_large", "huge_integer": "decode"}


@pytest.fixture
async def poison_run(stack, create_topic, unique_name):
    """Valid ticks with every kind of poison record between them, in one partition, through the relay."""
    topic = await create_topic(unique_name)
    records, seq = [], 0
    for _, poison in POISON.items():
        for _ in range(3):
            seq += 1
            records.append(tick(SYMBOL, seq))
        records.append(poison)
    seq += 1
    records.append(tick(SYMBOL, seq))
    await send_raw(stack.bootstrap_servers, topic, records)

    tally = Tally(keep_order=True)
    settings = relay_settings(stack, topic, unique_name, channel_from="field", channel_field="symbol")
    async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, tally.add) as subscriber:
        await subscriber.subscribe([SYMBOL])
        async with running_relay(stack, settings) as metrics:
            await wait_for(lambda: tally.received >= seq, 60, f"{seq} valid ticks")
            await wait_for(lambda: _dead_lettered(metrics) >= len(POISON), 30, "the dead-lettered records")
    dead = await read_all(stack.bootstrap_servers, f"{topic}.dlq")
    ends, committed = await end_and_committed_offsets(stack.bootstrap_servers, topic, unique_name)
    return {"tally": tally, "seq": seq, "dead": dead, "ends": ends, "committed": committed}


def _dead_lettered(metrics) -> float:
    return sum(sample.value for family in metrics.records_dead_lettered.collect()
               for sample in family.samples if sample.name.endswith("_total"))


async def test_valid_ticks_in_order(poison_run):
    assert poison_run["tally"].order == {SYMBOL: list(range(1, poison_run["seq"] + 1))}


async def test_each_poison_dead_lettered(poison_run):
    reasons = sorted(dict(record.headers)["dlq.error.reason"].decode() for record in poison_run["dead"])
    assert reasons == sorted(EXPECTED_REASONS.values())


async def test_dead_letter_keeps_value(poison_run):
    values = {record.value for record in poison_run["dead"]}
    assert values == {value for _, value in POISON.values()}


async def test_dead_letter_names_source(poison_run):
    headers = dict(poison_run["dead"][0].headers)
    assert {"dlq.source.topic", "dlq.source.partition", "dlq.source.offset", "dlq.error.message", "dlq.failed_at_ms"} <= set(headers)


async def test_poison_committed_to_end(poison_run):
    assert committed_positions(poison_run["committed"]) == poison_run["ends"]


async def test_rejected_then_throttled_keeps_order(stack, create_topic, unique_name):
    """A is rejected by AppSync and B is throttled twice, so C and D wait for B."""
    topic = await create_topic(unique_name)
    await send_raw(stack.bootstrap_servers, topic, [tick(SYMBOL, seq) for seq in range(1, 5)])
    throttled = {"count": 0}

    def rule(body):
        seqs = [data["value"]["seq"] for data in data_of(body)]
        if seqs == [1]:
            return graphql_error(200, "ValidationError", "data is invalid", path="p0")
        if seqs == [2] and throttled["count"] < 2:
            throttled["count"] += 1
            return graphql_error(429, "TooManyRequestsException", "rate exceeded")
        return None

    tally = Tally(keep_order=True)
    async with FaultProxy(stack.graphql_url) as proxy:
        proxy.rule = rule
        settings = relay_settings(stack, topic, unique_name, appsync_url=proxy.url, batch_max_records=1,
                                  retry_base_s=0.05, retry_max_s=0.5)
        async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, tally.add) as subscriber:
            await subscriber.subscribe([SYMBOL])
            async with running_relay(stack, settings):
                await wait_for(lambda: tally.received >= 3, 30, "B, C and D")
    dead = await read_all(stack.bootstrap_servers, f"{topic}.dlq")
    assert tally.order == {SYMBOL: [2, 3, 4]}
    assert [json.loads(record.value)["seq"] for record in dead] == [1]
    assert throttled["count"] == 2


async def test_rejected_batch_split_to_find_record(stack, create_topic, unique_name):
    """A request-level rejection names no alias, so the relay retries one by one and dead-letters only the culprit."""
    topic = await create_topic(unique_name)
    await send_raw(stack.bootstrap_servers, topic, [tick(SYMBOL, seq) for seq in range(1, 6)])

    def rule(body):
        if 3 in [data["value"]["seq"] for data in data_of(body)]:
            return graphql_error(400, "BadRequestException", "Variable 'd2' has an invalid value")
        return None

    tally = Tally(keep_order=True)
    async with FaultProxy(stack.graphql_url) as proxy:
        proxy.rule = rule
        settings = relay_settings(stack, topic, unique_name, appsync_url=proxy.url, batch_max_records=50, batch_linger_ms=200)
        async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, tally.add) as subscriber:
            await subscriber.subscribe([SYMBOL])
            async with running_relay(stack, settings):
                await wait_for(lambda: tally.received >= 4, 30, "the four valid ticks")
    assert tally.order == {SYMBOL: [1, 2, 4, 5]}
