"""The pace of a run: the spacing between consecutive records, from a rate or an interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Pace:
    """Seconds between consecutive records; 0 sends as fast as the broker accepts."""

    interval_s: float

    def __post_init__(self) -> None:
        if not self.interval_s >= 0:
            raise ValueError(f"interval of {self.interval_s} s between records is invalid; use 0 or more seconds")

    @classmethod
    def from_rate(cls, records_per_s: float) -> Pace:
        if not records_per_s > 0:
            raise ValueError(f"rate of {records_per_s} records/s is invalid; use a rate above 0")
        return cls(interval_s=1.0 / records_per_s)

    @classmethod
    def from_interval(cls, interval_s: float) -> Pace:
        return cls(interval_s=interval_s)

    @property
    def rate(self) -> float | None:
        """Records per second, or None when unpaced."""
        return 1.0 / self.interval_s if self.interval_s else None

    def scheduled_at(self, start: datetime, index: int) -> datetime:
        """Return when record number `index` (from 0) is due.

        Computed from the start for each record, never by adding intervals
        one after another, so that rounding errors do not accumulate into drift.
        """
        return start + timedelta(seconds=index * self.interval_s)
