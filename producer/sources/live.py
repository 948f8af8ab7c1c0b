"""Live one-minute bars from Yahoo Finance through yfinance, an optional extra: pip install '.[live]'.

Fetching and parsing are separate. `fetch_download` calls yfinance and
serializes its DataFrame with `DataFrame.to_json(orient="split")`. `parse_download`
is pure and reads that JSON, so tests can run it on a recorded response.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Callable, Mapping, Sequence

import structlog

from producer.tick import Tick

log = structlog.get_logger(__name__)

# yfinance column names, in Yahoo's layout.
_FIELDS = {"Open": "open", "High": "high", "Low": "low", "Close": "close", "Adj Close": "adj_close", "Volume": "volume"}
DEFAULT_POLL_INTERVAL_S = 60.0


class LiveSourceUnavailableError(RuntimeError):
    """yfinance is not installed."""


def load_yfinance() -> Any:
    """Import yfinance, raising LiveSourceUnavailableError with the install command when it is missing."""
    try:
        import yfinance
    except ImportError as error:
        raise LiveSourceUnavailableError(
            "the live source needs yfinance, which is not installed; install the extra with pip install '.[live]' "
            "(or pip install 'kafka-appsync-relay[live]')"
        ) from error
    return yfinance


def fetch_download(symbols: Sequence[str], interval: str = "1m") -> dict:
    """Download today's bars of `symbols` with yfinance and return them as split-oriented JSON (see parse_download)."""
    yfinance = load_yfinance()
    frame = yfinance.download(
        tickers=list(symbols),
        period="1d",
        interval=interval,
        group_by="ticker",
        auto_adjust=False,
        actions=False,
        progress=False,
        threads=False,
    )
    if frame is None or frame.empty:
        return {"columns": [], "index": [], "data": []}
    # ISO dates: pandas 3 deprecates the epoch format for to_json.
    return json.loads(frame.to_json(orient="split", date_format="iso", date_unit="ms"))


def parse_download(payload: Mapping[str, Any], symbols: Sequence[str]) -> dict[str, list[Tick]]:
    """Return each symbol's complete bars, oldest first, from a yfinance download in split-oriented JSON.

    The payload has `columns` (pairs of ticker and field, as yfinance's
    group_by="ticker" MultiIndex, or plain field names for a single symbol),
    `index` (bar start times as ISO-8601 UTC strings, or as epoch milliseconds
    from older pandas versions) and `data` (one row per
    bar). Rows whose close is missing, as Yahoo returns for a bar that has not
    traded yet, are skipped. `symbols` names the single symbol of a flat frame.
    """
    columns = [_column_key(column, symbols) for column in payload.get("columns", [])]
    bars: dict[str, list[Tick]] = {}
    for bar_start, row in zip(payload.get("index", []), payload.get("data", []), strict=True):
        ts = _parse_bar_start(bar_start)
        fields: dict[str, dict[str, Any]] = {}
        for (symbol, field), value in zip(columns, row, strict=True):
            if field is not None:
                fields.setdefault(symbol, {})[field] = value
        for symbol, values in fields.items():
            tick = _tick_from_fields(symbol, ts, values)
            if tick is not None:
                bars.setdefault(symbol, []).append(tick)
    return bars


def _parse_bar_start(value: Any) -> datetime:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _column_key(column: Any, symbols: Sequence[str]) -> tuple[str, str | None]:
    if isinstance(column, list) and len(column) == 2:
        ticker, field = column
    elif isinstance(column, str) and len(symbols) == 1:
        ticker, field = symbols[0], column
    else:
        raise ValueError(f"yfinance column {column!r} is neither a (ticker, field) pair nor a field of a single-symbol download")
    return ticker, _FIELDS.get(field)


def _tick_from_fields(symbol: str, ts: datetime, values: Mapping[str, Any]) -> Tick | None:
    close = _finite(values.get("close"))
    if close is None:
        return None
    volume = _finite(values.get("volume"))
    return Tick(
        symbol=symbol,
        ts=ts,
        open=_finite(values.get("open")),
        high=_finite(values.get("high")),
        low=_finite(values.get("low")),
        close=close,
        adj_close=_finite(values.get("adj_close")),
        volume=int(volume) if volume is not None else None,
    )


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def new_bars(bars: Mapping[str, list[Tick]], last_sent: dict[str, datetime]) -> list[Tick]:
    """Return the bars newer than the last one sent per symbol, and record them as sent.

    For a symbol not seen before only its latest bar is new, so the first
    poll does not replay the whole day.
    """
    fresh = []
    for symbol, ticks in bars.items():
        previous = last_sent.get(symbol)
        if previous is None:
            selected = ticks[-1:]
        else:
            selected = [tick for tick in ticks if tick.ts > previous]
        if selected:
            last_sent[symbol] = selected[-1].ts
            fresh.extend(selected)
    return sorted(fresh, key=lambda tick: tick.ts)


async def live_ticks(
    symbols: Sequence[str],
    *,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    interval: str = "1m",
    fetch: Callable[[Sequence[str], str], dict] = fetch_download,
) -> AsyncIterator[Tick]:
    """Poll Yahoo Finance every `poll_interval_s` seconds and yield each new bar of `symbols`.

    The download runs in a worker thread because yfinance blocks. A failed poll
    is logged and retried at the next interval.
    """
    if fetch is fetch_download:
        load_yfinance()  # fail at start, not at the first poll, when the extra is missing
    last_sent: dict[str, datetime] = {}
    started = time.monotonic()
    poll = 0
    while True:
        try:
            payload = await asyncio.to_thread(fetch, symbols, interval)
            bars = parse_download(payload, symbols)
            if not bars:
                # yfinance returns an empty frame both when Yahoo fails and outside trading hours.
                log.warning("live_poll_returned_no_bars", symbols=list(symbols), retry_in_s=poll_interval_s)
            fresh = new_bars(bars, last_sent)
        except LiveSourceUnavailableError:
            raise
        except Exception as error:  # noqa: BLE001 - network and parsing errors vary with yfinance versions
            log.warning("live_poll_failed", symbols=list(symbols), error=repr(error), retry_in_s=poll_interval_s)
            fresh = []
        log.debug("live_poll_done", new_bars=len(fresh))
        for tick in fresh:
            yield tick
        poll += 1
        # Polls follow an absolute schedule, so slow downloads do not push later polls back.
        await asyncio.sleep(max(0.0, started + poll * poll_interval_s - time.monotonic()))
