"""Render benchmark results as Markdown tables, and write them into the record page. Pure formatting, except write_page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchmarks.latency import SERVICE_LATENCY_TARGET_S, LatencyResults
from benchmarks.measurement import Series
from benchmarks.scale import SCALE_BATCH, SCALE_ORDERING, ScaleResults
from benchmarks.stats import Spread
from benchmarks.throughput import DEFAULT_BATCH, DEFAULT_ORDERING, ThroughputResults

RESULTS_START = "<!-- benchmark results: start (python -m benchmarks rewrites everything up to the end marker) -->"
RESULTS_END = "<!-- benchmark results: end -->"
RSS_TARGET_MIB = 256
SERVICE_SHARE_OF_LIMIT_TARGET = 0.5
ORIGINAL_MULTIPLE_TARGET = 100


@dataclass
class RunRecord:
    """Everything one run produced, for the tables."""

    plan_name: str
    rounds: int
    command: str
    started_at: str
    elapsed_s: float
    machine: dict[str, str]
    versions: dict[str, str]
    log_dir: str
    throughput: ThroughputResults | None = None
    latency: LatencyResults | None = None
    scale: ScaleResults | None = None
    load_at_end: str = ""


def render_results(record: RunRecord) -> str:
    parts = [_render_run(record)]
    if record.throughput:
        parts.append(_render_throughput(record.throughput))
    if record.latency:
        parts.append(_render_latency(record.latency))
    if record.scale:
        parts.append(_render_scale(record.scale))
    parts.append(_render_targets(record))
    return "\n\n".join(parts) + "\n"


def _render_run(record: RunRecord) -> str:
    rows = [("started", record.started_at), ("mode", f"{record.plan_name}, {record.rounds} round(s)"),
            ("command", f"`{record.command}`"), ("duration", f"{record.elapsed_s / 60:.1f} min"),
            ("logs", f"`{record.log_dir}`")]
    rows += list(record.machine.items())
    rows.append(("load average at end (1, 5, 15 min)", record.load_at_end))
    rows += list(record.versions.items())
    return "### Run\n\n" + _table(["", ""], rows)


def format_spread(spread: Spread, digits: int = 0, scale: float = 1.0) -> str:
    if spread.median is None:
        return "n/a"
    median, low, high = (value * scale for value in (spread.median, spread.low, spread.high))
    if spread.rounds == 1:
        return f"{median:,.{digits}f}"
    return f"{median:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


def _ratio(value: float | None, digits: int = 2) -> str:
    return f"{value:.{digits}f}×" if value is not None else "n/a"


def _render_throughput(results: ThroughputResults) -> str:
    header = ["contender", "records/s, median (min–max)", "share of limit", "× original design",
              "CPU s per 10,000 records", "peak RSS MiB (VmHWM)", "records in window", "start s"]
    rows = []
    series_list = [results.limit, *results.relays.values(), results.original]
    for series in series_list:
        rows.append([
            series.label,
            format_spread(series.rate),
            _percent(series.rate.ratio_to(results.limit.rate)),
            _ratio(series.rate.ratio_to(results.original.rate), 1),
            format_spread(series.cpu_s_per_10k, 3),
            format_spread(series.peak_rss_mib),
            format_spread(series.records),
            format_spread(series.start_s, 1) if series.start_s.median is not None else "",
        ])
    duplicates = sum(series.duplicates for series in results.relays.values())
    note = (
        f"Topic `{results.topic}`: {results.topic_records:,} records of 100 symbols in 6 partitions, filled by the producer CLI "
        f"at {results.fill_rate:,.0f} records/s. A relay's window opens once all partitions are assigned (the endpoint delays its "
        f"responses until then) and closes at the endpoint's last acknowledgement. *start s* is process start to that moment "
        f"(imports, group join). "
        f"Duplicates acknowledged by the endpoint over all relay runs: {duplicates}."
    )
    text = "### 1. Throughput\n\n" + note + "\n\n" + _table(header, rows)
    if results.round_trip_relay.rounds:
        relay, original = results.round_trip_relay, results.round_trip_original
        rows = [[series.label, format_spread(series.rate), _ratio(series.rate.ratio_to(original.rate), 1),
                 format_spread(series.cpu_s_per_10k, 3), format_spread(series.records)] for series in (relay, original)]
        text += (
            f"\n\nThe same two designs when every request takes an assumed {results.round_trip_ms:g} ms round trip "
            "(the endpoint responds to each request that long after it arrived; an estimate for AppSync in the same region, "
            "not a measurement of it):\n\n"
            + _table(["contender", "records/s, median (min–max)", "× original design", "CPU s per 10,000 records", "records in window"], rows)
        )
    return text


def _percent(value: float | None) -> str:
    return f"{value * 100:.1f}%" if value is not None else "n/a"


def _ms(value: float | None, digits: int = 1) -> str:
    return f"{value:,.{digits}f}" if value is not None else "n/a"


def _render_latency(results: LatencyResults) -> str:
    header = ["target rate/s", "achieved rate/s", "records", "record→ack p50 ms", "p95 ms", "p99 ms (per-third min–max)", "max ms",
              "service-added p50 / p95 / p99 ms", f"service-added ≤ {SERVICE_LATENCY_TARGET_S * 1000:.0f} ms",
              "sent→ack p99 ms", "record→consumed p99 ms", "records per request", "relay CPU"]
    rows = []
    for result in results.fixed_rates:
        windows = [window["p99_ms"] for window in result.record_to_ack_windows if window["p99_ms"] is not None]
        window_range = f" ({min(windows):,.1f}–{max(windows):,.1f})" if windows else ""
        service = result.service_added
        rows.append([
            f"{result.rate:,}",
            f"{result.achieved_rate:,.0f}",
            f"{result.acknowledged:,} of {result.produced:,}",
            _ms(result.record_to_ack["p50_ms"]),
            _ms(result.record_to_ack["p95_ms"]),
            _ms(result.record_to_ack["p99_ms"]) + window_range,
            _ms(result.record_to_ack["max_ms"]),
            f"{_ms(service.p50_ms)} / {_ms(service.p95_ms)} / {_ms(service.p99_ms)}",
            _percent(service.share_within_target),
            _ms(result.sent_to_ack["p99_ms"]),
            _ms(result.consume.p99_ms),
            _ms(result.records_per_request),
            _percent(result.relay_cpu_share),
        ])
    text = (
        "### 2. Latency at fixed rates\n\n"
        f"One relay with its default settings ({_describe_settings(results)}) and the minimal endpoint. "
        "*record→ack*: the record's Kafka timestamp (set by the producer) to the endpoint's response, measured by the endpoint "
        "for every record from the envelope's `timestamp_ms`. *service-added*: consumed by the relay to acknowledged, read "
        "from the relay's `relay_record_relay_latency_seconds` histogram, so its quantiles are interpolated inside buckets "
        "(1, 2, 5, 10, 20 ms, ...), while the share within 10 ms is exact. *sent→ack*: the envelope's `sent_at_ms` to the response. "
        "*records per request*: mean batch size from `relay_batch_records`. "
        "*relay CPU*: CPU seconds of the relay process per second of the run.\n\n"
        + _table(header, rows)
    )
    if results.subscriber:
        sub = results.subscriber
        summary = sub.record_to_received
        text += (
            "\n\nThrough the AppSync simulator to one WebSocket subscriber of all 100 symbols "
            f"(record timestamp → received by the subscriber, {sub.duration_s:g} s at {sub.rate} records/s):\n\n"
            + _table(["records produced", "received", "lost", "duplicates", "out of order", "p50 ms", "p95 ms", "p99 ms", "max ms"],
                     [[f"{sub.produced:,}", f"{sub.received:,}", str(sub.lost), str(sub.duplicates), str(sub.out_of_order),
                       _ms(summary["p50_ms"]), _ms(summary["p95_ms"]), _ms(summary["p99_ms"]), _ms(summary["max_ms"])]])
        )
    return text


def _describe_settings(results: LatencyResults) -> str:
    """Describe the relay settings that shape latency, as the first fixed-rate relay logged them at start."""
    settings = results.fixed_rates[0].relay_settings if results.fixed_rates else {}
    if not settings:
        return "not logged"
    return (f"ordering={settings.get('ordering')}, batch {settings.get('batch_max_records')}, "
            f"linger {settings.get('batch_linger_ms')} ms, queue {settings.get('queue_max_records')} records per partition")


def _render_scale(results: ScaleResults) -> str:
    header = ["relay processes in one group", "records/s, median (min–max)", "× one process", "CPU s per 10,000 records (all processes)",
              "peak RSS MiB of the largest process"]
    single = results.processes.get(1)
    rows = []
    for count, series in results.processes.items():
        rows.append([str(count), format_spread(series.rate), _ratio(series.rate.ratio_to(single.rate)) if single else "n/a",
                     format_spread(series.cpu_s_per_10k, 3), format_spread(series.peak_rss_mib)])
    text = (f"### 3. Scale and memory\n\nSame topic as section 1, ordering={SCALE_ORDERING}, batch {SCALE_BATCH}; "
            "the window opens once every process is assigned at least one partition.\n\n" + _table(header, rows))
    stall = results.stall
    if stall:
        series = ", ".join(f"{at:.0f} s {mib:.0f}" for at, mib in stall.rss_series[::5])
        recovery = f"{stall.recovery_s:.1f}" if stall.recovery_s is not None else "did not recover"
        text += (
            f"\n\nOne relay at {stall.rate:,} records/s while the endpoint holds every request without responding for {stall.stall_s:g} s "
            f"(from {stall.stall_started_s:.0f} s to {stall.stall_ended_s:.0f} s after the producer started), then responds again:\n\n"
            + _table(["RSS before the stall MiB", "max RSS MiB (1 s samples)", "VmHWM MiB", "records produced", "delivered (distinct)",
                      "duplicates", "committed offsets reached the end", "last record acknowledged, s after resume"],
                     [[f"{stall.rss_before_stall_mib:.0f}", f"{stall.rss_max_mib:.0f}", f"{stall.hwm_mib:.0f}", f"{stall.produced:,}",
                       f"{stall.delivered:,}", str(stall.duplicates), "yes" if stall.committed_to_end else "no", recovery]])
            + f"\n\nRSS MiB every 5 s (seconds since the producer started): {series}."
        )
    return text


def _render_targets(record: RunRecord) -> str:
    rows = []
    throughput = record.throughput
    if throughput:
        default = throughput.relays.get((DEFAULT_ORDERING, DEFAULT_BATCH))
        best = max(throughput.relays.values(), key=lambda series: series.rate.median or 0, default=None)
        if default:
            share = default.rate.ratio_to(throughput.limit.rate)
            rows.append(["relay reaches ≥ 50% of the limit (defaults: partition, batch 50)", _percent(share),
                         _verdict(share is not None and share >= SERVICE_SHARE_OF_LIMIT_TARGET)])
            multiple = default.rate.ratio_to(throughput.original.rate)
            rows.append(["relay ≥ 100× the original design (defaults, loopback endpoint)", _ratio(multiple, 1),
                         _verdict(multiple is not None and multiple >= ORIGINAL_MULTIPLE_TARGET)])
        if throughput.round_trip_relay.rounds:
            multiple = throughput.round_trip_relay.rate.ratio_to(throughput.round_trip_original.rate)
            rows.append([f"relay ≥ 100× the original design (defaults, assumed {throughput.round_trip_ms:g} ms round trip)",
                         _ratio(multiple, 1), _verdict(multiple is not None and multiple >= ORIGINAL_MULTIPLE_TARGET)])
        if best:
            rows.append([f"best relay configuration ({best.label})",
                         f"{_percent(best.rate.ratio_to(throughput.limit.rate))} of the limit, "
                         f"{_ratio(best.rate.ratio_to(throughput.original.rate), 1)} the original", ""])
    if record.latency:
        at_1000 = next((result for result in record.latency.fixed_rates if result.rate == 1_000), None)
        if at_1000:
            share = at_1000.service_added.share_within_target
            rows.append(["service-added latency p99 ≤ 10 ms at 1,000 records/s",
                         f"{_percent(share)} within 10 ms (p99 ≈ {_ms(at_1000.service_added.p99_ms)} ms)",
                         _verdict(share is not None and share >= 0.99)])
    if record.scale and record.scale.stall:
        stall = record.scale.stall
        rows.append([f"RSS < {RSS_TARGET_MIB} MiB with the endpoint stalled", f"max {stall.rss_max_mib:.0f} MiB (VmHWM {stall.hwm_mib:.0f})",
                     _verdict(stall.hwm_mib < RSS_TARGET_MIB)])
        rows.append(["everything delivered after the stall", f"{stall.delivered:,} of {stall.produced:,}, committed to the end: "
                     f"{'yes' if stall.committed_to_end else 'no'}", _verdict(stall.delivered >= stall.produced and stall.committed_to_end)])
    return "### Targets (2-core machine)\n\n" + _table(["target", "measured", "met"], rows)


def _verdict(met: bool) -> str:
    return "yes" if met else "**no**"


def _table(header: list[str], rows: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines)


def write_page(path: Path, results_markdown: str, template: str) -> None:
    """Replace the results between the markers of the record page, keeping the hand-written text around them.

    A page without the markers is written afresh from `template`, which must contain them.
    """
    text = path.read_text() if path.exists() else ""
    if RESULTS_START not in text or RESULTS_END not in text:
        text = template
    before, rest = text.split(RESULTS_START, 1)
    _, after = rest.split(RESULTS_END, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{before}{RESULTS_START}\n\n{results_markdown}\n{RESULTS_END}{after}")
