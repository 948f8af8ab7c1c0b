"""Tick encoding: the JSON record value and its timestamp format."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from producer.tick import Tick, encode_tick, format_ts

NEW_YORK = timezone(timedelta(hours=-4))


def _tick(**changes) -> Tick:
    fields = dict(
        symbol="^GSPC",
        ts=datetime(2026, 1, 5, 14, 30, 0, 250_000, tzinfo=timezone.utc),
        open=1.5,
        high=2.0,
        low=1.0,
        close=1.75,
        adj_close=1.75,
        volume=900,
    )
    fields.update(changes)
    return Tick(**fields)


def test_ts_is_utc_with_milliseconds():
    assert format_ts(datetime(2026, 1, 5, 10, 30, 0, 250_999, tzinfo=NEW_YORK)) == "2026-01-05T14:30:00.250Z"


def test_ts_rejects_naive_time():
    with pytest.raises(ValueError, match="no time zone"):
        format_ts(datetime(2026, 1, 5, 14, 30))


def test_value_has_all_fields():
    value = json.loads(encode_tick(_tick(), seq=7))

    assert value == {
        "symbol": "^GSPC",
        "ts": "2026-01-05T14:30:00.250Z",
        "open": 1.5,
        "high": 2.0,
        "low": 1.0,
        "close": 1.75,
        "adj_close": 1.75,
        "volume": 900,
        "seq": 7,
    }


def test_value_has_null_for_missing_fields():
    value = json.loads(encode_tick(Tick(symbol="WTI", ts=_tick().ts, close=61.2), seq=1))

    assert [value[name] for name in ("open", "high", "low", "adj_close", "volume")] == [None] * 5


def test_value_rejects_nan():
    with pytest.raises(ValueError, match="high=nan"):
        encode_tick(_tick(high=float("nan")), seq=1)
