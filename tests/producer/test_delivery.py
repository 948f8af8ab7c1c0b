"""Delivery through the producer core against the real broker: replay, oversized records, an unreachable broker."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from datetime import datetime, timezone

import pytest
from prometheus_client import CollectorRegistry

from kafka_client.topics import ensure_topics
from producer.delivery import ProducerConfig, RecordProducer
from producer.metrics import ProducerMetrics
from producer.pacing import Pace
from producer.records import OutgoingRecord, RecordBuilder, TopicLayout
from producer.run import deliver_records, send_ticks
from producer.sources.live import live_ticks
from producer.sources.replay import load_replay_bars, read_bars, replay_ticks

pytestmark = pytest.mark.stack


def _closed_port() -> int:
    # Bind and close: nothing listens on the port afterwards.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _values(records) -> list[dict]:
    return [json.loads(record.value) for record in records]


async def test_replay_sends_file_rows_in_order(kafka_options, new_topic, read_topic):
    topic = await new_topic("replay", partitions=3)
    symbols = ["^VIX", "GOOG"]
    bars = load_replay_bars(symbols)
    builder = RecordBuilder(TopicLayout(topic=topic))

    result = await send_ticks(kafka_options, replay_ticks(bars, datetime.now(timezone.utc), Pace(0.0)), builder)

    assert result.ok
    assert result.acknowledged == len(bars)
    received = _values(await read_topic(topic))
    assert len(received) == len(bars)
    for symbol in symbols:
        rows = read_bars(symbol)
        ticks = [value for value in received if value["symbol"] == symbol]
        assert [tick["seq"] for tick in ticks] == list(range(1, len(rows) + 1))
        assert [_row_fields(tick) for tick in ticks] == [
            (row.open, row.high, row.low, row.close, row.adj_close, row.volume) for row in rows
        ]


def _row_fields(tick: dict) -> tuple:
    return tick["open"], tick["high"], tick["low"], tick["close"], tick["adj_close"], tick["volume"]


async def test_replay_keeps_every_field_of_a_row(kafka_options, new_topic, read_topic):
    topic = await new_topic("replay-fields")
    rows = read_bars("^GSPC")[:50]
    builder = RecordBuilder(TopicLayout(topic=topic))

    await send_ticks(kafka_options, replay_ticks(rows, datetime.now(timezone.utc), Pace(0.001)), builder)

    records = await read_topic(topic)
    for row, record in zip(rows, records, strict=True):
        value = json.loads(record.value)
        assert record.key == b"^GSPC"
        assert (value["open"], value["high"], value["low"], value["close"]) == (row.open, row.high, row.low, row.close)
        assert (value["adj_close"], value["volume"]) == (row.adj_close, row.volume)


async def test_replay_records_carry_produced_at(kafka_options, new_topic, read_topic):
    topic = await new_topic("replay-header")
    before_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
    builder = RecordBuilder(TopicLayout(topic=topic))

    await send_ticks(kafka_options, replay_ticks(read_bars("IBM")[:3], datetime.now(timezone.utc), Pace(0.0)), builder)

    for record in await read_topic(topic):
        headers = dict(record.headers)
        assert int(headers["produced_at"].decode("ascii")) >= before_ms


async def test_per_symbol_topics(kafka_options, new_topic, read_topic):
    prefix = (await new_topic("per-symbol")) + "."
    layout = TopicLayout(per_symbol=True, prefix=prefix)
    await ensure_topics(kafka_options, {layout.topic_for("^GSPC"): 1, layout.topic_for("^IXIC"): 1})
    bars = load_replay_bars(["^GSPC", "^IXIC"])[:20]

    result = await send_ticks(kafka_options, replay_ticks(bars, datetime.now(timezone.utc), Pace(0.0)), RecordBuilder(layout))

    assert result.acknowledged == 20
    assert {value["symbol"] for value in _values(await read_topic(prefix + "_GSPC"))} == {"^GSPC"}
    assert len(await read_topic(prefix + "_IXIC")) == 10


def _records(topic: str, count: int, prefix: str = "k") -> list[OutgoingRecord]:
    return [OutgoingRecord(topic=topic, key=f"{prefix}{index}".encode(), value=b'{"n":%d}' % index) for index in range(count)]


async def test_oversized_record_fails_client_side(kafka_options, new_topic, read_topic):
    topic = await new_topic("oversize")
    big = OutgoingRecord(topic=topic, key=b"big", value=b"x" * 1_200_000)
    records = _records(topic, 5, "a") + [big] + _records(topic, 5, "b")

    result = await deliver_records(kafka_options, records)

    assert [failure.key for failure in result.failures] == ["big"]
    assert "MessageSizeTooLargeError" in result.failures[0].error
    assert result.acknowledged == 10
    assert len(await read_topic(topic)) == result.acknowledged


async def test_oversized_record_rejected_by_broker(kafka_options, new_topic, read_topic):
    # A max_request_size above the broker's message.max.bytes (1 MB by default)
    # lets the record reach the broker, which rejects it.
    topic = await new_topic("oversize-broker")
    big = OutgoingRecord(topic=topic, key=b"big", value=b"x" * 1_500_000)
    records = _records(topic, 5, "a") + [big] + _records(topic, 5, "b")
    config = ProducerConfig(max_request_size=4_000_000)

    result = await deliver_records(kafka_options, records, config=config)

    failed_keys = {failure.key for failure in result.failures}
    assert "big" in failed_keys
    assert result.acknowledged + result.failed == len(records)
    assert len(await read_topic(topic)) == result.acknowledged


async def test_producer_recovers_after_broker_rejection(kafka_options, new_topic, read_topic):
    topic = await new_topic("oversize-recover")
    config = ProducerConfig(max_request_size=4_000_000)
    first = _records(topic, 5, "a") + [OutgoingRecord(topic=topic, key=b"big", value=b"x" * 1_500_000)] + _records(topic, 5, "b")

    producer = RecordProducer(kafka_options, config)
    await producer.start()
    try:
        for record in first:
            await producer.send(record)
        await producer.wait_for_acknowledgements()
        acknowledged_before = producer.result.acknowledged
        for record in _records(topic, 5, "c"):
            await producer.send(record)
    finally:
        await producer.stop()

    assert producer.result.acknowledged == acknowledged_before + 5
    assert len(await read_topic(topic)) == producer.result.acknowledged


async def test_unreachable_broker_fails_each_record(new_topic, read_topic):
    port = _closed_port()
    options = {"bootstrap_servers": f"127.0.0.1:{port}", "client_id": "unreachable-test", "security_protocol": "PLAINTEXT"}
    topic = await new_topic("unreachable")
    records = _records(topic, 4)

    result = await deliver_records(options, records, config=ProducerConfig(request_timeout_ms=2_000, start_timeout_s=2.0))

    assert [failure.key for failure in result.failures] == ["k0", "k1", "k2", "k3"]
    assert f"127.0.0.1:{port}" in result.failures[0].error
    assert result.acknowledged == 0
    assert await read_topic(topic) == []


async def test_unreachable_broker_fails_each_tick(new_topic):
    options = {"bootstrap_servers": f"127.0.0.1:{_closed_port()}", "client_id": "unreachable-test"}
    ticks = replay_ticks(read_bars("MSFT")[:3], datetime.now(timezone.utc), Pace(60.0))
    builder = RecordBuilder(TopicLayout(topic="ticks"))

    result = await send_ticks(options, ticks, builder, config=ProducerConfig(start_timeout_s=2.0))

    assert [failure.key for failure in result.failures] == ["MSFT", "MSFT", "MSFT"]
    assert result.error is not None


async def test_missing_topic_fails_fast(kafka_options):
    records = _records("no-such-topic-" + datetime.now().strftime("%H%M%S%f"), 50)

    result = await deliver_records(kafka_options, records, config=ProducerConfig(request_timeout_ms=2_000))

    assert result.failed == 50
    assert "does not exist" in result.failures[-1].error
    assert result.elapsed_s < 10


async def test_metrics_count_outcomes(kafka_options, new_topic):
    topic = await new_topic("metrics")
    registry = CollectorRegistry()
    records = _records(topic, 7) + [OutgoingRecord(topic=topic, key=b"big", value=b"x" * 1_200_000)]

    await deliver_records(kafka_options, records, metrics=ProducerMetrics(registry))

    assert registry.get_sample_value("producer_records_sent_total") == 8
    assert registry.get_sample_value("producer_records_acknowledged_total") == 7
    assert registry.get_sample_value("producer_records_failed_total") == 1
    assert registry.get_sample_value("producer_send_latency_seconds_count") == 7


async def test_stop_ends_wait_for_async_source(kafka_options, new_topic):
    topic = await new_topic("stop-live")
    stop = asyncio.Event()

    def fetch_nothing(symbols, interval):
        return {"columns": [], "index": [], "data": []}

    ticks = live_ticks(["AAPL"], poll_interval_s=60, fetch=fetch_nothing)
    asyncio.get_running_loop().call_later(0.5, stop.set)
    started = time.monotonic()

    result = await send_ticks(kafka_options, ticks, RecordBuilder(TopicLayout(topic=topic)), paced=False, stop=stop)

    assert result.ok
    assert time.monotonic() - started < 10
