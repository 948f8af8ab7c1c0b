"""Summary statistics of benchmark samples: percentiles, medians with spread, and Prometheus histogram quantiles.

Pure functions, no I/O.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Iterable, Sequence


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Return the nearest-rank percentile of values (sorted or not), or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(values_ms: Sequence[float]) -> dict[str, float | int | None]:
    """Return the count, p50, p95, p99 and max of latencies in milliseconds."""
    ordered = sorted(values_ms)
    return {
        "count": len(ordered),
        "p50_ms": _nearest_rank(ordered, 50),
        "p95_ms": _nearest_rank(ordered, 95),
        "p99_ms": _nearest_rank(ordered, 99),
        "max_ms": ordered[-1] if ordered else None,
    }


def _nearest_rank(ordered: Sequence[float], pct: float) -> float | None:
    if not ordered:
        return None
    return ordered[max(1, math.ceil(pct / 100 * len(ordered))) - 1]


@dataclass(frozen=True)
class Spread:
    """The median of repeated measurements, with their minimum and maximum."""

    median: float | None
    low: float | None
    high: float | None
    rounds: int

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Spread:
        present = [value for value in values if value is not None]
        if not present:
            return cls(None, None, None, 0)
        return cls(statistics.median(present), min(present), max(present), len(present))

    def ratio_to(self, other: Spread) -> float | None:
        """Return median / other.median, or None when either is missing or zero."""
        if not self.median or not other.median:
            return None
        return self.median / other.median


def histogram_quantile(buckets: Sequence[tuple[float, float]], quantile: float) -> float | None:
    """Estimate a quantile from cumulative histogram buckets, as Prometheus' histogram_quantile does.

    `buckets` are (upper bound, cumulative count) pairs sorted by bound, the
    last one +Inf. The estimate interpolates linearly inside the bucket that
    contains the quantile, so its resolution is the bucket width. A quantile
    in the +Inf bucket returns the largest finite bound.
    """
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    target = quantile * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= target:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (target - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound


def share_at_or_below(buckets: Sequence[tuple[float, float]], bound: float) -> float | None:
    """Return the exact share of observations at or below `bound`, which must be one of the bucket bounds."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    for upper, count in buckets:
        if math.isclose(upper, bound):
            return count / buckets[-1][1]
    raise ValueError(f"{bound} is not a bucket bound of this histogram; bounds are {[upper for upper, _ in buckets]}")


def subtract_buckets(after: Sequence[tuple[float, float]], before: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Return the buckets of the observations made between two scrapes of the same histogram."""
    if not before:
        return list(after)
    earlier = dict(before)
    return [(bound, count - earlier.get(bound, 0.0)) for bound, count in after]
