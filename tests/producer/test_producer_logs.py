"""RepeatFilter: repeated standard-library log lines are rate-limited and counted."""

from __future__ import annotations

import logging

from producer.logs import RepeatFilter


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("aiokafka.cluster", logging.ERROR, __file__, 1, message, None, None)


def test_repeat_within_interval_dropped():
    now = [0.0]
    repeat_filter = RepeatFilter(interval_s=10, clock=lambda: now[0])
    repeat_filter.filter(_record("Topic t not found in cluster metadata"))
    now[0] = 5

    assert repeat_filter.filter(_record("Topic t not found in cluster metadata")) is False


def test_other_message_passes():
    repeat_filter = RepeatFilter(interval_s=10, clock=lambda: 0.0)
    repeat_filter.filter(_record("first"))

    assert repeat_filter.filter(_record("second")) is True


def test_repeat_after_interval_counts_dropped():
    now = [0.0]
    repeat_filter = RepeatFilter(interval_s=10, clock=lambda: now[0])
    for moment in (0, 1, 2, 3):
        now[0] = moment
        repeat_filter.filter(_record("broker down"))
    now[0] = 11
    record = _record("broker down")

    assert repeat_filter.filter(record) is True
    assert record.getMessage() == "broker down (repeated 3 times since the last line)"
