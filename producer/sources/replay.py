"""Replay of real historical prices shipped in producer/data/ (see SOURCES.md there), rebased to now."""

from __future__ import annotations

import csv
import gzip
import heapq
import io
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Iterable, Iterator, Sequence

from producer.pacing import Pace
from producer.tick import Tick

# Symbol to data file in producer/data/.
REPLAY_FILES: dict[str, str] = {
    "^GSPC": "gspc.csv.gz",
    "^IXIC": "ixic.csv.gz",
    "^VIX": "vix.csv.gz",
    "WTI": "wti.csv.gz",
    "AAPL": "aapl.csv.gz",
    "AMZN": "amzn.csv.gz",
    "GOOG": "goog.csv.gz",
    "IBM": "ibm.csv.gz",
    "MSFT": "msft.csv.gz",
}
# The two daily series with all fields, open to volume.
DEFAULT_REPLAY_SYMBOLS: tuple[str, ...] = ("^GSPC", "^IXIC")
_COLUMNS = ["date", "open", "high", "low", "close", "adj_close", "volume"]


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a data file."""

    symbol: str
    date: date
    close: float
    open: float | None
    high: float | None
    low: float | None
    adj_close: float | None
    volume: int | None


def parse_bars(symbol: str, csv_text: str) -> list[Bar]:
    """Parse a data file's CSV text into bars, in file order. Raises ValueError naming the bad line."""
    reader = csv.reader(io.StringIO(csv_text))
    header = next(reader, None)
    if header != _COLUMNS:
        raise ValueError(f"replay data for {symbol} has header {header}; expected {','.join(_COLUMNS)}")

    bars = []
    for line_number, row in enumerate(reader, start=2):
        try:
            bars.append(_parse_row(symbol, row))
        except (ValueError, IndexError) as error:
            raise ValueError(f"replay data for {symbol}, line {line_number} ({','.join(row)}) is invalid: {error}") from None
    return bars


def _parse_row(symbol: str, row: list[str]) -> Bar:
    if len(row) != len(_COLUMNS):
        raise ValueError(f"expected {len(_COLUMNS)} fields, found {len(row)}")
    day, open_, high, low, close, adj_close, volume = row
    if not close:
        raise ValueError("close is empty")
    return Bar(
        symbol=symbol,
        date=date.fromisoformat(day),
        close=float(close),
        open=_optional_float(open_),
        high=_optional_float(high),
        low=_optional_float(low),
        adj_close=_optional_float(adj_close),
        volume=int(volume) if volume else None,
    )


def _optional_float(text: str) -> float | None:
    return float(text) if text else None


def read_bars(symbol: str) -> list[Bar]:
    """Read the shipped data file of one symbol."""
    file_name = REPLAY_FILES.get(symbol)
    if file_name is None:
        raise ValueError(f"no replay data for symbol {symbol!r}; choose from {', '.join(REPLAY_FILES)}")
    compressed = resources.files("producer").joinpath("data", file_name).read_bytes()
    return parse_bars(symbol, gzip.decompress(compressed).decode("utf-8"))


def merge_by_date(series: Iterable[Sequence[Bar]]) -> list[Bar]:
    """Merge per-symbol series into one list ordered by date.

    The merge is stable: each series keeps its own row order, and bars of the
    same date follow the order in which the series are given.
    """
    return list(heapq.merge(*series, key=lambda bar: bar.date))


def load_replay_bars(symbols: Sequence[str] = DEFAULT_REPLAY_SYMBOLS) -> list[Bar]:
    """Read and merge the data files of `symbols` into one date-ordered list."""
    if not symbols:
        raise ValueError(f"no replay symbols given; choose from {', '.join(REPLAY_FILES)}")
    return merge_by_date(read_bars(symbol) for symbol in symbols)


def replay_ticks(bars: Iterable[Bar], start: datetime, pace: Pace) -> Iterator[Tick]:
    """Yield a tick per bar, in order, rebased in time: the first at `start`, each next one `pace` later."""
    for index, bar in enumerate(bars):
        yield Tick(
            symbol=bar.symbol,
            ts=pace.scheduled_at(start, index),
            open=bar.open,
            high=bar.high,
            low=bar.low,
            close=bar.close,
            adj_close=bar.adj_close,
            volume=bar.volume,
        )


def rotate(bars: Sequence[Bar], first_index: int, count: int) -> list[Bar]:
    """Return up to `count` bars starting at `first_index`, wrapping past the end to the first bar.

    At most every bar once, so a cycle never sends the same row twice.
    """
    return [bars[(first_index + offset) % len(bars)] for offset in range(min(count, len(bars)))]
