"""The tick: one price bar of one instrument, and its JSON encoding as a Kafka record value."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone


@dataclass(frozen=True, slots=True)
class Tick:
    """A price bar. Fields that a source does not provide are None (close-only series have no open, high, low or volume)."""

    symbol: str
    ts: datetime
    close: float
    open: float | None = None
    high: float | None = None
    low: float | None = None
    adj_close: float | None = None
    volume: int | None = None


def format_ts(ts: datetime) -> str:
    """Format a timezone-aware time as ISO-8601 UTC with milliseconds, e.g. 2024-05-01T13:30:00.250Z."""
    if ts.tzinfo is None:
        raise ValueError(f"tick time {ts!r} has no time zone; pass an aware datetime, e.g. datetime.now(timezone.utc)")
    return ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode_tick(tick: Tick, seq: int) -> bytes:
    """Encode a tick as the record value: a UTF-8 JSON object with the tick's fields and its sequence number.

    `ts` is ISO-8601 UTC with milliseconds. Raises ValueError for NaN or
    infinite prices, which JSON cannot carry.
    """
    value = {
        "symbol": tick.symbol,
        "ts": format_ts(tick.ts),
        "open": tick.open,
        "high": tick.high,
        "low": tick.low,
        "close": tick.close,
        "adj_close": tick.adj_close,
        "volume": tick.volume,
        "seq": seq,
    }
    for name in ("open", "high", "low", "close", "adj_close"):
        price = value[name]
        if price is not None and not math.isfinite(price):
            raise ValueError(f"tick {tick.symbol} at {value['ts']} has {name}={price}; JSON allows only finite numbers")
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")
