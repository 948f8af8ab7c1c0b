"""The replay source: the shipped data files, merging, rebasing and rotation."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from producer.pacing import Pace
from producer.sources.replay import REPLAY_FILES, Bar, load_replay_bars, merge_by_date, parse_bars, read_bars, replay_ticks, rotate

START = datetime(2026, 1, 5, 14, 30, tzinfo=timezone.utc)
CSV_HEADER = "date,open,high,low,close,adj_close,volume\n"


@pytest.mark.parametrize("symbol", list(REPLAY_FILES))
def test_data_file_in_time_order(symbol):
    dates = [bar.date for bar in read_bars(symbol)]

    assert dates == sorted(set(dates))


@pytest.mark.parametrize("symbol", ["^GSPC", "^IXIC"])
def test_index_rows_are_consistent_bars(symbol):
    bars = read_bars(symbol)

    assert all(bar.low <= min(bar.open, bar.close) for bar in bars)
    assert all(bar.high >= max(bar.open, bar.close) for bar in bars)
    # Two ^IXIC rows (2015-05-12, 2018-01-09) have volume 0 in the source.
    assert all(bar.volume >= 0 for bar in bars)


def test_gspc_first_row_intact():
    first = read_bars("^GSPC")[0]

    assert first == Bar(
        symbol="^GSPC",
        date=date(1999, 1, 4),
        open=1229.22998,
        high=1248.810059,
        low=1219.099976,
        close=1228.099976,
        adj_close=1228.099976,
        volume=877000000,
    )


def test_close_only_row_has_no_open():
    first = read_bars("WTI")[0]

    assert (first.close, first.open, first.volume) == (25.56, None, None)


def test_parse_rejects_wrong_header():
    with pytest.raises(ValueError, match="expected date,open"):
        parse_bars("X", "Date,Open\n")


def test_parse_names_bad_line():
    with pytest.raises(ValueError, match="line 3"):
        parse_bars("X", CSV_HEADER + "2020-01-02,,,,1.0,,\n2020-01-03,,,,abc,,\n")


def test_unknown_symbol():
    with pytest.raises(ValueError, match="choose from"):
        read_bars("TSLA")


def test_merge_keeps_each_series_order():
    merged = load_replay_bars(["^GSPC", "^IXIC"])

    for symbol in ("^GSPC", "^IXIC"):
        assert [bar for bar in merged if bar.symbol == symbol] == read_bars(symbol)


def test_merge_orders_by_date():
    merged = load_replay_bars(["MSFT", "GOOG", "^VIX"])

    assert [bar.date for bar in merged] == sorted(bar.date for bar in merged)


def test_merge_breaks_ties_by_series_order():
    day = date(2020, 1, 2)
    first = [Bar("A", day, 1.0, None, None, None, None, None)]
    second = [Bar("B", day, 2.0, None, None, None, None, None)]

    assert [bar.symbol for bar in merge_by_date([first, second])] == ["A", "B"]


def test_rebase_first_tick_at_start():
    ticks = list(replay_ticks(read_bars("IBM")[:3], START, Pace.from_interval(5.0)))

    assert [tick.ts for tick in ticks] == [START, START + timedelta(seconds=5), START + timedelta(seconds=10)]


def test_rebase_keeps_row_values():
    bars = read_bars("^IXIC")[:100]

    ticks = list(replay_ticks(bars, START, Pace.from_rate(10)))

    assert [(tick.open, tick.high, tick.low, tick.close, tick.volume) for tick in ticks] == [
        (bar.open, bar.high, bar.low, bar.close, bar.volume) for bar in bars
    ]


def test_rotate_wraps_around():
    bars = read_bars("GOOG")

    rotated = rotate(bars, len(bars) - 2, 4)

    assert rotated == [bars[-2], bars[-1], bars[0], bars[1]]


def test_rotate_sends_each_row_once():
    bars = read_bars("GOOG")

    assert len(rotate(bars, 5, len(bars) + 10)) == len(bars)
