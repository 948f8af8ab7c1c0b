"""The synthetic source: symbol names, the random walk's invariants, seeding and timestamps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from producer.pacing import Pace
from producer.sources.synthetic import RandomWalk, synthetic_symbols

START = datetime(2026, 1, 5, 14, 30, tzinfo=timezone.utc)


def test_symbol_names():
    assert synthetic_symbols(3) == ["SYM000", "SYM001", "SYM002"]


def test_symbol_names_widen_past_thousand():
    assert synthetic_symbols(1500)[-1] == "SYM1499"


def test_symbol_count_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        synthetic_symbols(0)


def test_walk_invariants():
    ticks = list(RandomWalk(synthetic_symbols(5), seed=1, volatility=0.01).ticks(START, Pace.from_rate(1000), limit=20_000))

    assert all(tick.high >= max(tick.open, tick.close) for tick in ticks)
    assert all(tick.low <= min(tick.open, tick.close) for tick in ticks)
    assert all(tick.low > 0 for tick in ticks)
    assert all(tick.volume > 0 for tick in ticks)


def test_walk_opens_at_previous_close():
    ticks = list(RandomWalk(["SYM000"], seed=2).ticks(START, Pace.from_rate(10), limit=50))

    assert all(later.open == earlier.close for earlier, later in zip(ticks, ticks[1:], strict=False))


def test_walk_moves():
    ticks = list(RandomWalk(["SYM000"], seed=3).ticks(START, Pace.from_rate(10), limit=50))

    assert len({tick.close for tick in ticks}) > 40


def test_seed_reproduces_walk():
    first = list(RandomWalk(synthetic_symbols(3), seed=42).ticks(START, Pace.from_rate(10), limit=30))
    second = list(RandomWalk(synthetic_symbols(3), seed=42).ticks(START, Pace.from_rate(10), limit=30))

    assert first == second


def test_symbols_take_turns():
    ticks = RandomWalk(synthetic_symbols(3), seed=4).ticks(START, Pace.from_rate(10), limit=6)

    assert [tick.symbol for tick in ticks] == ["SYM000", "SYM001", "SYM002"] * 2


def test_ticks_spaced_by_rate():
    ticks = list(RandomWalk(synthetic_symbols(2), seed=5).ticks(START, Pace.from_rate(4), limit=3))

    assert [tick.ts for tick in ticks] == [START + timedelta(seconds=offset) for offset in (0, 0.25, 0.5)]


def test_invalid_volatility():
    with pytest.raises(ValueError, match="volatility"):
        RandomWalk(["SYM000"], volatility=0)
