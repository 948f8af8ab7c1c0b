"""The Lambda handler, run locally with an EventBridge scheduled event against the real broker."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest

from producer.lambda_handler import handler
from producer.sources.replay import load_replay_bars

pytestmark = pytest.mark.stack


def _scheduled_event(time: str) -> dict:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time,
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/kafka-appsync-producer"],
        "detail": {},
    }


@pytest.fixture
def lambda_env(monkeypatch, stack, new_topic):
    async def configure(**producer_env: str) -> str:
        topic = await new_topic("lambda", partitions=2)
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrap_servers)
        monkeypatch.setenv("PRODUCER_TOPIC", topic)
        monkeypatch.setenv("PRODUCER_RATE", "1000")
        for name, value in producer_env.items():
            monkeypatch.setenv(f"PRODUCER_{name.upper()}", value)
        return topic

    return configure


def _context() -> SimpleNamespace:
    return SimpleNamespace(aws_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef", function_name="kafka-appsync-producer")


async def test_lambda_replay_cycle(lambda_env, read_topic, kafka_options):
    topic = await lambda_env(max_records="25")

    # The handler calls asyncio.run, so it runs in a thread outside this test's event loop.
    summary = await asyncio.to_thread(handler, _scheduled_event("2026-01-05T14:30:00Z"), _context())

    print("\nLambda summary:", json.dumps(summary))
    assert summary["ok"] is True
    assert summary["acknowledged"] == 25
    assert summary["aws_request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    received = [json.loads(record.value) for record in await read_topic(topic)]
    assert len(received) == 25
    bars = load_replay_bars(["^GSPC", "^IXIC"])
    first = bars[summary["first_row"]]
    first_of_symbol = next(value for value in received if value["symbol"] == first.symbol and value["seq"] == 1)
    assert first_of_symbol["close"] == first.close


async def test_lambda_cycles_advance_through_data(lambda_env):
    await lambda_env(max_records="10")

    first = await asyncio.to_thread(handler, _scheduled_event("2026-01-05T14:30:00Z"), _context())
    second = await asyncio.to_thread(handler, _scheduled_event("2026-01-05T14:31:00Z"), _context())

    assert second["first_row"] == first["first_row"] + 10


async def test_lambda_synthetic_cycle(lambda_env, read_topic):
    topic = await lambda_env(source="synthetic", max_records="40", synthetic_symbols="4")

    summary = await asyncio.to_thread(handler, _scheduled_event("2026-01-05T14:30:00Z"), _context())

    assert summary["acknowledged"] == 40
    assert len(await read_topic(topic)) == 40


async def test_lambda_reports_unreachable_broker(lambda_env, monkeypatch):
    await lambda_env(max_records="5", request_timeout_ms="2000")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")

    summary = await asyncio.to_thread(handler, _scheduled_event("2026-01-05T14:30:00Z"), _context())

    assert summary["ok"] is False
    assert summary["failed"] == 5


def test_lambda_rejects_invalid_settings(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    monkeypatch.setenv("PRODUCER_SOURCE", "live")

    with pytest.raises(ValueError, match="PRODUCER_SOURCE"):
        handler(_scheduled_event("2026-01-05T14:30:00Z"), _context())
