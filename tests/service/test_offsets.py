"""The committable offset of a partition."""

from service.offsets import OffsetTracker


def tracker_with(*offsets):
    tracker = OffsetTracker()
    for offset in offsets:
        tracker.add(offset)
    return tracker


def test_nothing_consumed():
    assert OffsetTracker().committable() is None


def test_nothing_finished():
    assert tracker_with(10, 11).committable() is None


def test_first_finished():
    tracker = tracker_with(10, 11)
    tracker.finish(10)
    assert tracker.committable() == 11


def test_all_finished():
    tracker = tracker_with(10, 11)
    tracker.finish(10)
    tracker.finish(11)
    assert tracker.committable() == 12


def test_gap_holds_commit():
    tracker = tracker_with(10, 11, 12)
    tracker.finish(11)
    tracker.finish(12)
    assert tracker.committable() == 10


def test_gap_filled():
    tracker = tracker_with(10, 11, 12)
    tracker.finish(12)
    tracker.finish(10)
    tracker.finish(11)
    assert tracker.committable() == 13


def test_offset_gaps_in_log():
    tracker = tracker_with(5, 9)
    tracker.finish(5)
    tracker.finish(9)
    assert tracker.committable() == 10


def test_pending_count():
    tracker = tracker_with(1, 2, 3)
    tracker.finish(2)
    assert tracker.pending == 3
