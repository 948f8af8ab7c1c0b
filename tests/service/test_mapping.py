"""The record → channel and data mapping, without a network."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from service.errors import DecodeError, PayloadTooLargeError, TombstoneError
from service.mapping import MAX_DATA_BYTES, ChannelRule, map_record


@dataclass
class Record:
    value: bytes | None = b'{"symbol": "AAPL", "close": 189.5}'
    key: bytes | None = b"AAPL"
    topic: str = "ticks"
    partition: int = 3
    offset: int = 42
    timestamp: int = 1_700_000_000_000
    headers: list = field(default_factory=list)


def data_of(record, rule=ChannelRule(), sent_at_ms=1_700_000_000_005):
    return json.loads(map_record(record, rule).encode_data(sent_at_ms))


def test_channel_from_key():
    assert map_record(Record(), ChannelRule("key")).channel == "AAPL"


def test_channel_from_topic():
    assert map_record(Record(topic="AMZN"), ChannelRule("topic")).channel == "AMZN"


def test_channel_from_field():
    record = Record(value=b'{"ticker": "MSFT"}', key=None)
    assert map_record(record, ChannelRule("field", "ticker")).channel == "MSFT"


def test_channel_field_missing():
    with pytest.raises(DecodeError, match="'ticker'"):
        map_record(Record(value=b'{"symbol": "MSFT"}'), ChannelRule("field", "ticker"))


def test_channel_field_of_array():
    with pytest.raises(DecodeError, match="JSON object"):
        map_record(Record(value=b"[1, 2]"), ChannelRule("field", "symbol"))


def test_envelope_fields():
    data = data_of(Record())
    assert {k: data[k] for k in ("topic", "partition", "offset", "key", "timestamp_ms", "sent_at_ms")} == {
        "topic": "ticks", "partition": 3, "offset": 42, "key": "AAPL",
        "timestamp_ms": 1_700_000_000_000, "sent_at_ms": 1_700_000_000_005,
    }


def test_envelope_value_parsed():
    assert data_of(Record())["value"] == {"symbol": "AAPL", "close": 189.5}


def test_data_encoded_once():
    encoded = map_record(Record(), ChannelRule()).encode_data(1)
    assert isinstance(json.loads(encoded)["value"], dict)


def test_unicode_value():
    record = Record(value='{"name": "Société Générale ✓ 株式"}'.encode())
    assert data_of(record)["value"]["name"] == "Société Générale ✓ 株式"


def test_numbers_keep_precision():
    record = Record(value=b'{"volume": 12345678901234567890, "price": 0.1, "neg": -3e-7}')
    assert data_of(record)["value"] == {"volume": 12345678901234567890, "price": 0.1, "neg": -3e-7}


def test_nested_value():
    nested = {"a": [1, {"b": None, "c": [True, False]}], "d": {"e": {"f": "g"}}}
    assert data_of(Record(value=json.dumps(nested).encode()))["value"] == nested


def test_scalar_value():
    assert data_of(Record(value=b"3.5"))["value"] == 3.5


def test_non_utf8_key_with_topic_channel():
    data = data_of(Record(key=b"\xff\xfe"), ChannelRule("topic"))
    assert (data["key"], data["key_base64"]) == (None, "//4=")


def test_non_utf8_key_with_key_channel():
    with pytest.raises(DecodeError, match="not valid UTF-8"):
        map_record(Record(key=b"\xff\xfe"), ChannelRule("key"))


def test_missing_key_with_key_channel():
    with pytest.raises(DecodeError, match="has no key"):
        map_record(Record(key=None), ChannelRule("key"))


def test_value_not_utf8():
    with pytest.raises(DecodeError, match="not valid UTF-8"):
        map_record(Record(value=b'{"a": "\xff"}'), ChannelRule())


def test_value_truncated_json():
    with pytest.raises(DecodeError, match="not valid JSON"):
        map_record(Record(value=b'{"symbol": "AA'), ChannelRule())


def test_value_nan_rejected():
    with pytest.raises(DecodeError, match="NaN"):
        map_record(Record(value=b'{"close": NaN}'), ChannelRule())


def test_tombstone():
    with pytest.raises(TombstoneError):
        map_record(Record(value=None), ChannelRule())


def test_oversized_value():
    big = json.dumps({"blob": "x" * MAX_DATA_BYTES}).encode()
    with pytest.raises(PayloadTooLargeError, match="AppSync"):
        map_record(Record(value=big), ChannelRule())


def test_produced_at_header():
    record = Record(headers=[("produced_at", b"1699999999990")])
    assert data_of(record)["produced_at_ms"] == 1_699_999_999_990


def test_error_names_position():
    with pytest.raises(DecodeError, match="ticks/3@42"):
        map_record(Record(value=b"nope"), ChannelRule())


def test_huge_integer_rejected():
    record = Record(value=b'{"n": ' + b"1" * 5000 + b"}")
    with pytest.raises(DecodeError, match="cannot be parsed"):
        map_record(record, ChannelRule())


def test_deep_nesting_rejected():
    record = Record(value=b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(DecodeError, match="cannot be parsed"):
        map_record(record, ChannelRule())
