"""Throughput on one prepared topic: the aiokafka ceiling, the relay service, and the original one-request-per-record design."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field

from benchmarks.context import ENDPOINT_API_KEY, BenchContext
from benchmarks.kafka_ops import create_topics, end_offsets, run_producer
from benchmarks.measurement import Measurement, Series
from benchmarks.procstat import ProcessSampler
from benchmarks.processes import RelayProcess, wait_all_assigned
from devstack.config import REPO_ROOT

LIMIT_LABEL = "aiokafka read, no processing (limit)"
ORIGINAL_LABEL = "original design: one requests.post per record"
DEFAULT_ORDERING = "partition"
DEFAULT_BATCH = 50
# Fine enough to place the window's ends within 5 ms on the CPU curve.
_SAMPLE_INTERVAL_S = 0.05


@dataclass
class ThroughputResults:
    topic: str
    topic_records: int
    fill_rate: float
    limit: Series = field(default_factory=lambda: Series(LIMIT_LABEL))
    relays: dict[tuple[str, int], Series] = field(default_factory=dict)
    original: Series = field(default_factory=lambda: Series(ORIGINAL_LABEL))
    round_trip_ms: float = 0.0
    round_trip_relay: Series = field(default_factory=lambda: Series(relay_label(DEFAULT_ORDERING, DEFAULT_BATCH)))
    round_trip_original: Series = field(default_factory=lambda: Series(ORIGINAL_LABEL))


def relay_label(ordering: str, batch: int) -> str:
    return f"relay, ordering={ordering}, batch={batch}"


def prepare_topic(context: BenchContext, purpose: str, records: int) -> tuple[str, int, float]:
    """Create and fill a topic with `records` synthetic ticks; return its name, record count and the fill rate."""
    topic = context.topic(purpose)
    create_topics(context.bootstrap_servers, {topic: context.plan.partitions, context.dead_letter_topic: 1})
    context.topics_created += [topic, context.dead_letter_topic]
    produced = run_producer(context.bootstrap_servers, topic, records=records, log_path=context.log("producer"))
    if produced.failed:
        raise RuntimeError(f"the producer failed to send {produced.failed} records to {topic}; see {context.log('producer')}")
    total = sum(end_offsets(context.bootstrap_servers, topic).values())
    if total != records:
        raise RuntimeError(f"topic {topic} contains {total} records after sending {records}; another process wrote to it, so run again")
    return topic, total, records / produced.elapsed_s


def run_throughput(context: BenchContext, progress) -> ThroughputResults:
    plan = context.plan
    topic, total, fill_rate = prepare_topic(context, "throughput", plan.topic_records)
    progress(f"filled {topic} with {total:,} records at {fill_rate:,.0f} records/s")
    results = ThroughputResults(topic=topic, topic_records=total, fill_rate=fill_rate, round_trip_ms=plan.round_trip_ms)
    # Rounds are interleaved, so that a noisy minute on the shared machine hits every contender alike.
    for round_index in range(plan.rounds):
        measurement = measure_limit(context, topic)
        results.limit.rounds.append(measurement)
        progress(f"round {round_index + 1}: limit {measurement.rate:,.0f} records/s")
        for ordering in plan.orderings:
            for batch in plan.batch_sizes:
                label = relay_label(ordering, batch)
                measurement = measure_relays(context, topic, total, f"r{round_index}-{ordering}-b{batch}", processes=1,
                                             ordering=ordering, batch_max_records=batch)
                results.relays.setdefault((ordering, batch), Series(label)).rounds.append(measurement)
                progress(f"round {round_index + 1}: {label}: {_rate_text(measurement)}")
        measurement = measure_original(context, topic, min(plan.original_records, total))
        results.original.rounds.append(measurement)
        progress(f"round {round_index + 1}: original design {_rate_text(measurement)}")
        _measure_with_round_trip(context, topic, total, round_index, results, progress)
    return results


def _measure_with_round_trip(context: BenchContext, topic: str, total: int, round_index: int, results: ThroughputResults,
                             progress) -> None:
    plan = context.plan
    context.endpoint.set_delay(plan.round_trip_ms)
    try:
        measurement = measure_relays(context, topic, total, f"r{round_index}-rtt", processes=1,
                                     ordering=DEFAULT_ORDERING, batch_max_records=DEFAULT_BATCH)
        results.round_trip_relay.rounds.append(measurement)
        progress(f"round {round_index + 1}: {plan.round_trip_ms:g} ms round trip: relay {_rate_text(measurement)}")
        measurement = measure_original(context, topic, min(plan.round_trip_original_records, total))
        results.round_trip_original.rounds.append(measurement)
        progress(f"round {round_index + 1}: {plan.round_trip_ms:g} ms round trip: original design {_rate_text(measurement)}")
    finally:
        context.endpoint.set_delay(0)


def _rate_text(measurement: Measurement) -> str:
    rate = f"{measurement.rate:,.0f} records/s" if measurement.rate else "no records"
    return f"{rate} over {measurement.records:,} records in {measurement.window_s:.1f} s"


def measure_limit(context: BenchContext, topic: str) -> Measurement:
    result = _run_child(context, ["benchmarks.limit", "--bootstrap-servers", context.bootstrap_servers, "--topic", topic], "limit")
    return Measurement(records=result["records"], window_s=result["last_at"] - result["first_at"],
                       cpu_s=result["cpu_s"], peak_rss_kib=result["hwm_kib"])


def measure_original(context: BenchContext, topic: str, records: int) -> Measurement:
    context.endpoint.reset()
    result = _run_child(context, ["benchmarks.original", "--bootstrap-servers", context.bootstrap_servers, "--topic", topic,
                                  "--url", context.endpoint.url, "--api-key", ENDPOINT_API_KEY, "--max-records", str(records)],
                        "original")
    return Measurement(records=result["records"], window_s=result["last_at"] - result["first_at"],
                       cpu_s=result["cpu_s"], peak_rss_kib=result["hwm_kib"])


def _run_child(context: BenchContext, module_and_args: list[str], name: str) -> dict:
    with open(context.log(name), "ab") as log:
        completed = subprocess.run([sys.executable, "-m", *module_and_args], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                   stderr=log, check=False, timeout=600)
    if completed.returncode != 0:
        raise RuntimeError(f"{module_and_args[0]} exited with code {completed.returncode}; see {context.log(name)}")
    return json.loads(completed.stdout.decode().strip().splitlines()[-1])


def measure_relays(context: BenchContext, topic: str, total: int, run_name: str, *, processes: int,
                   **relay_settings) -> Measurement:
    """Run `processes` relay services in one fresh group over the whole topic and measure them together.

    The endpoint delays its response to every request until the group is
    stable (all partitions are assigned and each process has at least one),
    so no process gets a head start while the others still start up. The
    window opens when the endpoint starts responding and closes at its last
    acknowledgement, once every record was acknowledged or the plan's window
    cap passed. RELAY_REVOKE_BUDGET_S is 0, so a rebalance during start-up
    cancels the held requests at once instead of waiting for them. The
    partitions' next owner publishes those records.
    """
    endpoint = context.endpoint
    endpoint.reset()
    endpoint.stall()
    group_id = f"bench-{context.run_id}-{run_name}-n{processes}"
    context.groups_created.append(group_id)
    relays = [
        RelayProcess(bootstrap_servers=context.bootstrap_servers, topic=topic, group_id=group_id,
                     appsync_url=endpoint.url, api_key=ENDPOINT_API_KEY, dead_letter_topic=context.dead_letter_topic,
                     log_path=context.log(f"relay-{run_name}-n{processes}-{index}"), service_dir=context.service_dir,
                     revoke_budget_s=0, **relay_settings)
        for index in range(processes)
    ]
    samplers: list[ProcessSampler] = []
    try:
        for relay in relays:
            relay.start()
            samplers.append(ProcessSampler(relay.pid, _SAMPLE_INTERVAL_S).start())
        assigned_at = wait_all_assigned(relays, context.plan.partitions)
        opened = endpoint.stats()
        endpoint.resume()
        window_start = opened["now"]
        deadline = window_start + context.plan.relay_window_cap_s
        closed = endpoint.stats()
        while closed["unique"] < total and time.monotonic() < deadline:
            time.sleep(0.1)
            closed = endpoint.stats()
        for sampler in samplers:
            sampler.stop()
    finally:
        endpoint.resume()
        for relay in relays:
            relay.stop()
    window_end = closed["last_ack_at"] or window_start
    cpu = [sampler.cpu_between(window_start, window_end) for sampler in samplers]
    return Measurement(
        records=closed["unique"],
        window_s=window_end - window_start,
        cpu_s=sum(cpu) if None not in cpu else None,
        peak_rss_kib=max(sampler.peak_hwm_kib or 0 for sampler in samplers) or None,
        duplicates=closed["acknowledged"] - closed["unique"],
        start_s=assigned_at - min(relay.started_at for relay in relays),
    )
