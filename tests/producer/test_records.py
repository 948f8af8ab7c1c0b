"""Record building: keys, per-symbol sequence numbers, the produced_at header and topic names."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from producer.records import MissingKeyError, OutgoingRecord, RecordBuilder, TopicLayout, topic_for_symbol
from producer.tick import Tick

NOW = datetime(2026, 1, 5, 14, 30, tzinfo=timezone.utc)


def _tick(symbol: str) -> Tick:
    return Tick(symbol=symbol, ts=NOW, close=10.0)


def test_seq_counts_per_symbol_from_one():
    builder = RecordBuilder(TopicLayout())
    symbols = ["AAPL", "MSFT", "AAPL", "AAPL", "MSFT", "IBM"]

    seqs = [json.loads(builder.build(_tick(symbol), produced_at_ms=0).value)["seq"] for symbol in symbols]

    assert seqs == [1, 1, 2, 3, 2, 1]


def test_seq_restarts_with_new_builder():
    first = RecordBuilder(TopicLayout())
    first.build(_tick("AAPL"), produced_at_ms=0)

    record = RecordBuilder(TopicLayout()).build(_tick("AAPL"), produced_at_ms=0)

    assert json.loads(record.value)["seq"] == 1


def test_key_is_symbol_bytes():
    record = RecordBuilder(TopicLayout()).build(_tick("^GSPC"), produced_at_ms=0)

    assert record.key == b"^GSPC"


def test_produced_at_header_is_ascii_epoch_ms():
    record = RecordBuilder(TopicLayout()).build(_tick("IBM"), produced_at_ms=1767623400123)

    assert record.headers == (("produced_at", b"1767623400123"),)


def test_keyless_record_rejected():
    with pytest.raises(MissingKeyError, match="has no key"):
        OutgoingRecord(topic="ticks", key=b"", value=b"{}")


def test_none_key_rejected():
    with pytest.raises(MissingKeyError, match="set the key to the symbol"):
        OutgoingRecord(topic="ticks", key=None, value=b"{}")


def test_tick_without_symbol_rejected():
    builder = RecordBuilder(TopicLayout())

    with pytest.raises(MissingKeyError, match="empty symbol"):
        builder.build(_tick(""), produced_at_ms=0)


def test_rejected_tick_takes_no_seq():
    builder = RecordBuilder(TopicLayout())
    with pytest.raises(MissingKeyError):
        builder.build(_tick(""), produced_at_ms=0)

    record = builder.build(_tick("AAPL"), produced_at_ms=0)

    assert json.loads(record.value)["seq"] == 1


def test_single_topic_layout():
    assert TopicLayout(topic="ticks").topic_for("AAPL") == "ticks"


def test_per_symbol_topic_sanitized():
    assert topic_for_symbol("ticks.", "^GSPC") == "ticks._GSPC"


def test_per_symbol_topic_keeps_safe_characters():
    assert TopicLayout(per_symbol=True, prefix="t-").topic_for("BRK.B_x-1") == "t-BRK.B_x-1"


def test_per_symbol_topic_too_long():
    with pytest.raises(ValueError, match="249"):
        topic_for_symbol("ticks.", "X" * 250)
