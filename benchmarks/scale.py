"""Scale and memory: several relay processes in one group, and one relay's memory while the endpoint stalls under load."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from benchmarks.context import ENDPOINT_API_KEY, BenchContext
from benchmarks.kafka_ops import committed_offsets, create_topics, end_offsets, producer_result, start_producer
from benchmarks.measurement import Series
from benchmarks.procstat import ProcessSampler
from benchmarks.processes import RelayProcess, wait_all_assigned
from benchmarks.throughput import measure_relays

SCALE_BATCH = 50
SCALE_ORDERING = "partition"
_RECOVERY_TIMEOUT_S = 180.0
# The relay commits every RELAY_COMMIT_INTERVAL_S (1 s by default); give it a few intervals.
_COMMIT_TIMEOUT_S = 15.0


@dataclass
class StallResult:
    rate: int
    stall_s: float
    produced: int
    delivered: int
    duplicates: int
    committed_to_end: bool
    recovery_s: float | None
    rss_before_stall_mib: float
    rss_max_mib: float
    hwm_mib: float
    # (seconds since the producer started, resident MiB), one sample per second.
    rss_series: list[tuple[float, float]]
    stall_started_s: float
    stall_ended_s: float


@dataclass
class ScaleResults:
    processes: dict[int, Series] = field(default_factory=dict)
    stall: StallResult | None = None


def run_scale(context: BenchContext, topic: str, total: int, progress) -> ScaleResults:
    results = ScaleResults()
    for round_index in range(context.plan.rounds):
        for count in context.plan.scale_processes:
            measurement = measure_relays(context, topic, total, f"scale-r{round_index}", processes=count,
                                         ordering=SCALE_ORDERING, batch_max_records=SCALE_BATCH)
            results.processes.setdefault(count, Series(f"{count} relay process(es)")).rounds.append(measurement)
            rate = f"{measurement.rate:,.0f} records/s" if measurement.rate else "no records in the window"
            progress(f"round {round_index + 1}: {count} process(es): {rate}")
    results.stall = measure_stall(context)
    stall = results.stall
    progress(f"stall: max RSS {stall.rss_max_mib:.0f} MiB, delivered {stall.delivered:,} of {stall.produced:,}, "
             f"committed to the end: {stall.committed_to_end}")
    return results


def measure_stall(context: BenchContext, **relay_settings) -> StallResult:
    """Load one relay at plan.memory_rate, stall the endpoint for plan.memory_stall_s, resume, and wait for every record.

    relay_settings (RELAY_* names in lower case, without the prefix) override the relay's defaults.
    """
    plan = context.plan
    topic = context.topic("stall")
    group_id = f"bench-{context.run_id}-stall"
    context.groups_created.append(group_id)
    create_topics(context.bootstrap_servers, {topic: plan.partitions})
    context.topics_created.append(topic)
    endpoint = context.endpoint
    relay = RelayProcess(bootstrap_servers=context.bootstrap_servers, topic=topic, group_id=group_id,
                         appsync_url=endpoint.url, api_key=ENDPOINT_API_KEY, dead_letter_topic=context.dead_letter_topic,
                         log_path=context.log("relay-stall"), service_dir=context.service_dir, **relay_settings).start()
    sampler = ProcessSampler(relay.pid, interval_s=1.0).start()
    duration_s = plan.memory_warmup_s + plan.memory_stall_s + plan.memory_after_s
    try:
        relay.wait_ready()
        wait_all_assigned([relay], plan.partitions)
        endpoint.reset()
        started = time.monotonic()
        producer = start_producer(context.bootstrap_servers, topic, rate=plan.memory_rate, duration_s=duration_s,
                                  log_path=context.log("producer"))
        time.sleep(plan.memory_warmup_s)

        endpoint.stall()
        stall_started = time.monotonic()
        time.sleep(plan.memory_stall_s)
        endpoint.resume()
        stall_ended = time.monotonic()

        produced = producer_result(producer, timeout_s=duration_s + 120).acknowledged
        stats = endpoint.wait_unique(produced, _RECOVERY_TIMEOUT_S)
        committed_to_end = _wait_committed_to_end(context, topic, group_id)
        sampler.stop()
    finally:
        endpoint.resume()
        relay.stop()

    samples = sampler.samples
    before = [sample.rss_kib for sample in samples if started <= sample.at < stall_started]
    recovered_at = stats["last_ack_at"] if stats["unique"] >= produced else None
    return StallResult(
        rate=plan.memory_rate,
        stall_s=plan.memory_stall_s,
        produced=produced,
        delivered=stats["unique"],
        duplicates=stats["acknowledged"] - stats["unique"],
        committed_to_end=committed_to_end,
        recovery_s=recovered_at - stall_ended if recovered_at is not None else None,
        rss_before_stall_mib=max(before, default=0) / 1024,
        rss_max_mib=max(sample.rss_kib for sample in samples) / 1024,
        hwm_mib=(sampler.peak_hwm_kib or 0) / 1024,
        rss_series=[(round(sample.at - started, 1), sample.rss_kib / 1024) for sample in samples if sample.at >= started],
        stall_started_s=stall_started - started,
        stall_ended_s=stall_ended - started,
    )


def _wait_committed_to_end(context: BenchContext, topic: str, group_id: str) -> bool:
    ends = end_offsets(context.bootstrap_servers, topic)
    deadline = time.monotonic() + _COMMIT_TIMEOUT_S
    while time.monotonic() < deadline:
        committed = committed_offsets(context.bootstrap_servers, topic, group_id)
        # A partition that received no record has nothing to commit.
        if all(committed.get(partition, 0) == end for partition, end in ends.items()):
            return True
        time.sleep(0.5)
    return False
