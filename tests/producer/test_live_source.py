"""The live source, without network: parsing a recorded yfinance download and choosing new bars.

data/yfinance_download_1m.json was crafted in the shape that yfinance 0.2.58
returns for download(["AAPL", "MSFT", "^GSPC"], period="1d", interval="1m",
group_by="ticker", auto_adjust=False): a DataFrame with (Ticker, Price)
columns and a New York time index, serialized by pandas 3.1 with
to_json(orient="split", date_format="iso", date_unit="ms"). Its last MSFT row
is empty, as Yahoo returns for a bar without trades yet.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from producer.sources.live import LiveSourceUnavailableError, live_ticks, load_yfinance, new_bars, parse_download

RECORDED = Path(__file__).parent / "data" / "yfinance_download_1m.json"
SYMBOLS = ["AAPL", "MSFT", "^GSPC"]


def _recorded() -> dict:
    return json.loads(RECORDED.read_text())


def test_parse_bars_per_symbol():
    bars = parse_download(_recorded(), SYMBOLS)

    assert {symbol: len(ticks) for symbol, ticks in bars.items()} == {"AAPL": 5, "MSFT": 4, "^GSPC": 5}


def test_parse_fields():
    last_aapl = parse_download(_recorded(), SYMBOLS)["AAPL"][-1]

    assert last_aapl.ts == datetime(2025, 3, 14, 19, 59, tzinfo=timezone.utc)
    assert (last_aapl.open, last_aapl.high, last_aapl.low, last_aapl.close) == (213.55, 213.62, 213.44, 213.49)
    assert (last_aapl.adj_close, last_aapl.volume) == (213.49, 1150342)


def test_parse_volume_is_int():
    msft = parse_download(_recorded(), SYMBOLS)["MSFT"]

    assert all(isinstance(tick.volume, int) for tick in msft)


def test_parse_epoch_ms_index():
    payload = _recorded()
    payload["index"] = [1741982100000 + 60_000 * offset for offset in range(5)]

    first = parse_download(payload, SYMBOLS)["^GSPC"][0]

    assert first.ts == datetime(2025, 3, 14, 19, 55, tzinfo=timezone.utc)


def test_parse_single_symbol_flat_columns():
    payload = {
        "columns": ["Adj Close", "Close", "High", "Low", "Open", "Volume"],
        "index": ["2025-03-14T19:59:00.000Z"],
        "data": [[99.5, 99.5, 100.0, 99.0, 99.2, 1200]],
    }

    bars = parse_download(payload, ["IBM"])

    assert bars["IBM"][0].close == 99.5


def test_parse_rejects_unknown_column_shape():
    with pytest.raises(ValueError, match="neither"):
        parse_download({"columns": ["Close"], "index": [], "data": []}, ["AAPL", "MSFT"])


def test_first_poll_sends_latest_bar():
    fresh = new_bars(parse_download(_recorded(), SYMBOLS), {})

    assert [(tick.symbol, tick.ts.minute) for tick in fresh] == [("MSFT", 58), ("AAPL", 59), ("^GSPC", 59)]


def test_next_poll_sends_only_newer_bars():
    bars = parse_download(_recorded(), SYMBOLS)
    last_sent = {symbol: ticks[1].ts for symbol, ticks in bars.items()}

    fresh = new_bars(bars, last_sent)

    assert len(fresh) == 3 + 2 + 3
    assert last_sent["AAPL"] == bars["AAPL"][-1].ts


def test_repeat_poll_sends_nothing():
    bars = parse_download(_recorded(), SYMBOLS)
    last_sent: dict = {}
    new_bars(bars, last_sent)

    assert new_bars(bars, last_sent) == []


async def test_live_ticks_poll_recorded_response():
    def fetch(symbols, interval):
        return _recorded()

    stream = live_ticks(SYMBOLS, poll_interval_s=0.01, fetch=fetch)
    first = [await anext(stream) for _ in range(3)]
    await stream.aclose()

    assert {tick.symbol for tick in first} == set(SYMBOLS)


def test_missing_yfinance_names_extra(monkeypatch):
    # A None entry in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "yfinance", None)

    with pytest.raises(LiveSourceUnavailableError, match=r"pip install '\.\[live\]'"):
        load_yfinance()


def test_dataframe_round_trip():
    pandas = pytest.importorskip("pandas")
    payload = _recorded()
    columns = pandas.MultiIndex.from_tuples([tuple(column) for column in payload["columns"]], names=["Ticker", "Price"])
    index = pandas.DatetimeIndex(payload["index"], name="Datetime").tz_convert("America/New_York")
    frame = pandas.DataFrame(payload["data"], index=index, columns=columns)

    serialized = json.loads(frame.to_json(orient="split", date_format="iso", date_unit="ms"))

    assert parse_download(serialized, SYMBOLS) == parse_download(payload, SYMBOLS)
