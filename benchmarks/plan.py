"""Sizes of a benchmark run: the full run for the record page, and --quick for development."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    rounds: int
    # Throughput: one prepared topic read by every contender.
    topic_records: int
    partitions: int
    # A relay run stops when it has relayed the whole topic or when its window
    # reaches this many seconds, whichever comes first. Its rate covers the
    # records it relayed in that window.
    relay_window_cap_s: float
    batch_sizes: tuple[int, ...]
    orderings: tuple[str, ...]
    original_records: int
    # An assumed AppSync round trip, added by the endpoint to every request in
    # a second comparison of the relay and the original design.
    round_trip_ms: float
    round_trip_original_records: int
    # Latency at fixed rates, through the minimal endpoint.
    latency_rates: tuple[int, ...]
    latency_duration_s: float
    # Latency through the AppSync simulator to a WebSocket subscriber.
    subscriber_rate: int
    subscriber_duration_s: float
    # Scale and memory.
    scale_processes: tuple[int, ...]
    memory_rate: int
    memory_warmup_s: float
    memory_stall_s: float
    memory_after_s: float


FULL = Plan(
    name="full",
    rounds=3,
    topic_records=200_000,
    partitions=6,
    relay_window_cap_s=12.0,
    batch_sizes=(1, 10, 50, 200),
    orderings=("partition", "key"),
    original_records=5_000,
    round_trip_ms=20.0,
    round_trip_original_records=500,
    latency_rates=(200, 1_000, 5_000),
    latency_duration_s=60.0,
    subscriber_rate=200,
    subscriber_duration_s=60.0,
    scale_processes=(1, 2, 3),
    memory_rate=2_000,
    memory_warmup_s=10.0,
    memory_stall_s=60.0,
    memory_after_s=10.0,
)

QUICK = Plan(
    name="quick",
    rounds=1,
    topic_records=50_000,
    partitions=6,
    relay_window_cap_s=5.0,
    batch_sizes=(1, 10, 50, 200),
    orderings=("partition", "key"),
    original_records=1_000,
    round_trip_ms=20.0,
    round_trip_original_records=200,
    latency_rates=(200, 1_000, 5_000),
    latency_duration_s=8.0,
    subscriber_rate=200,
    subscriber_duration_s=8.0,
    scale_processes=(1, 2, 3),
    memory_rate=1_000,
    memory_warmup_s=3.0,
    memory_stall_s=10.0,
    memory_after_s=3.0,
)
