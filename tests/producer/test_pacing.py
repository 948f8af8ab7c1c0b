"""Pace: rate and interval, and schedules without drift."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from producer.pacing import Pace

START = datetime(2026, 1, 5, 14, 30, tzinfo=timezone.utc)


def test_rate_sets_interval():
    assert Pace.from_rate(4).interval_s == 0.25


def test_interval_sets_rate():
    assert Pace.from_interval(5.0).rate == 0.2


def test_zero_interval_is_unpaced():
    assert Pace.from_interval(0).rate is None


def test_schedule_has_no_drift():
    pace = Pace.from_rate(3)

    assert pace.scheduled_at(START, 3_000_000) == START + timedelta(seconds=1_000_000)


@pytest.mark.parametrize("rate", [0, -1.0, float("nan")])
def test_invalid_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        Pace.from_rate(rate)


def test_negative_interval():
    with pytest.raises(ValueError, match="interval"):
        Pace.from_interval(-0.5)
