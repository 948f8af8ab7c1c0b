"""Map a Kafka record to the channel name and `data` of a `publish` mutation.

Pure functions: no network and no clock. The send time goes into the
envelope when the mutation client encodes it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol, Sequence

from service.errors import DecodeError, PayloadTooLargeError, TombstoneError

try:
    # orjson parses and encodes several times faster than the standard
    # library; it is the `fast` extra, so the standard library stays the fallback.
    import orjson
except ImportError:
    orjson = None
from service.settings import APPSYNC_PAYLOAD_LIMIT_BYTES

ChannelSource = Literal["key", "topic", "field"]

# Room for the sent_at_ms field added at send time and for the channel name
# and field names that AppSync adds around `data` in a subscription message.
_ENVELOPE_HEADROOM_BYTES = 1024
MAX_DATA_BYTES = APPSYNC_PAYLOAD_LIMIT_BYTES - _ENVELOPE_HEADROOM_BYTES
MAX_CHANNEL_CHARS = 256


class KafkaRecord(Protocol):
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int
    headers: Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class ChannelRule:
    source: ChannelSource = "key"
    field: str = "symbol"


@dataclass(frozen=True, slots=True)
class Publication:
    """A record ready to publish. `data_prefix` is the envelope as JSON without its closing brace."""

    channel: str
    data_prefix: str
    ordering_key: bytes | None

    def encode_data(self, sent_at_ms: int) -> str:
        """Return the AWSJSON `data` string, with the relay's send time added."""
        return f'{self.data_prefix},"sent_at_ms":{sent_at_ms}}}'


def map_record(record: KafkaRecord, rule: ChannelRule) -> Publication:
    """Map one record, raising a RecordError subclass when it cannot be published."""
    if record.value is None:
        raise TombstoneError(f"record at {_position(record)} has a null value (a tombstone); there is nothing to publish")
    value, parsed_strictly = _parse_value(record)
    key_text = _decode_key(record.key)
    channel = _channel(record, rule, value, key_text)

    envelope: dict[str, Any] = {
        "value": value,
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "key": key_text,
        "timestamp_ms": record.timestamp,
    }
    if record.key is not None and key_text is None:
        envelope["key_base64"] = base64.b64encode(record.key).decode("ascii")
    produced_at = _header(record, "produced_at")
    if produced_at is not None:
        envelope["produced_at_ms"] = produced_at

    encoded = _encode(envelope, record, parsed_strictly)
    size = len(encoded)
    if size > MAX_DATA_BYTES:
        raise PayloadTooLargeError(
            f"record at {_position(record)} encodes to {size} bytes of data, over the {MAX_DATA_BYTES}-byte limit "
            f"that keeps subscription messages under AppSync's {APPSYNC_PAYLOAD_LIMIT_BYTES}-byte payload limit"
        )
    return Publication(channel=channel, data_prefix=encoded[:-1].decode("utf-8"), ordering_key=record.key)


def _parse_value(record: KafkaRecord) -> tuple[Any, bool]:
    """Return the parsed value, and whether orjson parsed it (strict JSON, 64-bit integers)."""
    if orjson is not None:
        try:
            return orjson.loads(record.value), True
        except orjson.JSONDecodeError:
            pass  # the standard library parses it, or explains precisely why not
    return _parse_value_slowly(record), False


def _encode(envelope: dict, record: KafkaRecord, parsed_strictly: bool) -> bytes:
    if orjson is not None and parsed_strictly:
        try:
            return orjson.dumps(envelope)
        except TypeError:
            pass  # an integer past 64 bits, from a key or header; the standard library encodes it
    try:
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except ValueError:
        # Python's parser accepts NaN and Infinity, which AWSJSON rejects.
        raise DecodeError(f"record value at {_position(record)} contains NaN or Infinity, which JSON does not allow") from None


def _parse_value_slowly(record: KafkaRecord) -> Any:
    try:
        text = record.value.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DecodeError(f"record value at {_position(record)} is not valid UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise DecodeError(f"record value at {_position(record)} is not valid JSON: {error.msg} at character {error.pos}") from None
    except (ValueError, RecursionError) as error:
        # Valid JSON that Python refuses to parse: an integer of more than
        # 4300 digits (ValueError) or nesting deeper than the recursion limit.
        raise DecodeError(f"record value at {_position(record)} cannot be parsed: {type(error).__name__}: {error}") from None


def _decode_key(key: bytes | None) -> str | None:
    if key is None:
        return None
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _channel(record: KafkaRecord, rule: ChannelRule, value: Any, key_text: str | None) -> str:
    if rule.source == "topic":
        channel = record.topic
    elif rule.source == "key":
        if key_text is None:
            problem = "has no key" if record.key is None else "has a key that is not valid UTF-8"
            raise DecodeError(
                f"record at {_position(record)} {problem}, but the channel comes from the key; "
                "produce keyed records or set RELAY_CHANNEL_FROM=topic or field"
            )
        channel = key_text
    else:
        if not isinstance(value, dict):
            raise DecodeError(
                f"record value at {_position(record)} is a JSON {type(value).__name__}, "
                f"but the channel comes from its field {rule.field!r}, so it must be a JSON object"
            )
        field_value = value.get(rule.field)
        if not isinstance(field_value, str) or not field_value:
            raise DecodeError(
                f"record value at {_position(record)} has no non-empty string field {rule.field!r} to name the channel; "
                "fix the producer or set RELAY_CHANNEL_FIELD"
            )
        channel = field_value
    if len(channel) > MAX_CHANNEL_CHARS:
        raise DecodeError(f"channel name of record at {_position(record)} has {len(channel)} characters, over the limit of {MAX_CHANNEL_CHARS}")
    return channel


def _header(record: KafkaRecord, name: str) -> int | None:
    for header_name, header_value in record.headers or ():
        if header_name == name and header_value:
            try:
                return int(header_value)
            except ValueError:
                return None
    return None


def _position(record: KafkaRecord) -> str:
    return f"{record.topic}/{record.partition}@{record.offset}"
