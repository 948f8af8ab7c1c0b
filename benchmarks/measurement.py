"""One measured throughput run, and the median with spread of several rounds of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.stats import Spread


@dataclass(frozen=True)
class Measurement:
    """Records processed in a time window, with the CPU seconds spent in that window and the peak resident memory."""

    records: int
    window_s: float
    cpu_s: float | None
    peak_rss_kib: int | None
    duplicates: int = 0
    start_s: float | None = None

    @property
    def rate(self) -> float | None:
        return self.records / self.window_s if self.window_s > 0 and self.records else None

    @property
    def cpu_s_per_10k(self) -> float | None:
        if self.cpu_s is None or not self.records:
            return None
        return self.cpu_s / self.records * 10_000


@dataclass
class Series:
    """The rounds of one contender, e.g. the relay with batch size 50 and ordering by partition."""

    label: str
    rounds: list[Measurement] = field(default_factory=list)

    @property
    def rate(self) -> Spread:
        return Spread.of(measurement.rate for measurement in self.rounds)

    @property
    def cpu_s_per_10k(self) -> Spread:
        return Spread.of(measurement.cpu_s_per_10k for measurement in self.rounds)

    @property
    def peak_rss_mib(self) -> Spread:
        return Spread.of(measurement.peak_rss_kib / 1024 if measurement.peak_rss_kib else None for measurement in self.rounds)

    @property
    def records(self) -> Spread:
        return Spread.of(measurement.records for measurement in self.rounds)

    @property
    def start_s(self) -> Spread:
        return Spread.of(measurement.start_s for measurement in self.rounds)

    @property
    def duplicates(self) -> int:
        return sum(measurement.duplicates for measurement in self.rounds)
