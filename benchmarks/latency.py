"""Latency at fixed rates: through the minimal endpoint, and through the AppSync simulator to a WebSocket subscriber."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from benchmarks.context import ENDPOINT_API_KEY, BenchContext
from benchmarks.kafka_ops import SYMBOL_COUNT, create_topics, producer_result, start_producer
from benchmarks.procstat import ProcessSampler
from benchmarks.processes import RelayProcess, histogram_buckets, wait_all_assigned
from benchmarks.stats import histogram_quantile, latency_summary, share_at_or_below, subtract_buckets
from producer.sources.synthetic import synthetic_symbols
from subscriber.client import Subscriber
from subscriber.tally import Tally

# The relay's latency histograms; their buckets bound the resolution of the quantiles read from them.
RELAY_LATENCY = "relay_record_relay_latency_seconds"
END_TO_END_LATENCY = "relay_record_end_to_end_latency_seconds"
CONSUME_LATENCY = "relay_record_consume_latency_seconds"
SERVICE_LATENCY_TARGET_S = 0.010
# Equal spans of a fixed-rate run whose p99 values give the spread of the run's p99.
LATENCY_WINDOWS = 3
_DRAIN_TIMEOUT_S = 60.0


@dataclass
class HistogramQuantiles:
    count: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    share_within_target: float | None

    @classmethod
    def of(cls, buckets: list[tuple[float, float]]) -> HistogramQuantiles:
        def quantile_ms(q: float) -> float | None:
            value = histogram_quantile(buckets, q)
            return value * 1000 if value is not None else None

        return cls(
            count=int(buckets[-1][1]) if buckets else 0,
            p50_ms=quantile_ms(0.50),
            p95_ms=quantile_ms(0.95),
            p99_ms=quantile_ms(0.99),
            share_within_target=share_at_or_below(buckets, SERVICE_LATENCY_TARGET_S) if buckets else None,
        )


@dataclass
class FixedRateResult:
    rate: int
    duration_s: float
    produced: int
    acknowledged: int
    record_to_ack: dict
    record_to_ack_windows: list[dict]
    sent_to_ack: dict
    service_added: HistogramQuantiles
    consume: HistogramQuantiles
    relay_cpu_share: float | None
    records_per_request: float | None
    # The relay's own record of its settings, from its start-up log line.
    relay_settings: dict

    @property
    def achieved_rate(self) -> float:
        return self.produced / self.duration_s


@dataclass
class SubscriberResult:
    rate: int
    duration_s: float
    produced: int
    received: int
    lost: int
    duplicates: int
    out_of_order: int
    record_to_received: dict


@dataclass
class LatencyResults:
    fixed_rates: list[FixedRateResult] = field(default_factory=list)
    subscriber: SubscriberResult | None = None


def run_latency(context: BenchContext, progress) -> LatencyResults:
    results = LatencyResults()
    for rate in context.plan.latency_rates:
        result = measure_fixed_rate(context, rate, context.plan.latency_duration_s)
        results.fixed_rates.append(result)
        progress(f"latency at {rate:,} records/s: p99 record→ack {result.record_to_ack['p99_ms']:.1f} ms, "
                 f"service-added p99 {_ms(result.service_added.p99_ms)}")
    results.subscriber = measure_subscriber(context, context.plan.subscriber_rate, context.plan.subscriber_duration_s)
    progress(f"subscriber at {context.plan.subscriber_rate} records/s: received {results.subscriber.received:,} "
             f"of {results.subscriber.produced:,}, p99 {_ms(results.subscriber.record_to_received['p99_ms'])}")
    return results


def _ms(value: float | None) -> str:
    return f"{value:.1f} ms" if value is not None else "n/a"


def measure_fixed_rate(context: BenchContext, rate: int, duration_s: float, label: str = "", **relay_settings) -> FixedRateResult:
    """Produce at `rate` for `duration_s` into a fresh topic that one relay publishes to the endpoint.

    relay_settings (RELAY_* names in lower case, without the prefix) override the relay's defaults.
    """
    topic = context.topic(f"latency-{rate}{label}")
    create_topics(context.bootstrap_servers, {topic: context.plan.partitions})
    context.topics_created.append(topic)
    endpoint = context.endpoint
    group_id = f"bench-{context.run_id}-latency-{rate}{label}"
    context.groups_created.append(group_id)
    relay = RelayProcess(bootstrap_servers=context.bootstrap_servers, topic=topic, group_id=group_id,
                         appsync_url=endpoint.url, api_key=ENDPOINT_API_KEY, dead_letter_topic=context.dead_letter_topic,
                         log_path=context.log(f"relay-latency-{rate}{label}"), service_dir=context.service_dir,
                         **relay_settings).start()
    sampler = ProcessSampler(relay.pid, interval_s=0.5).start()
    try:
        relay.wait_ready()
        wait_all_assigned([relay], context.plan.partitions)
        before = relay.metrics()
        endpoint.reset(record_latency=True)
        started = time.monotonic()
        producer = start_producer(context.bootstrap_servers, topic, rate=rate, duration_s=duration_s, log_path=context.log("producer"))
        produced = producer_result(producer, timeout_s=duration_s + 120)
        stats = endpoint.wait_unique(produced.acknowledged, _DRAIN_TIMEOUT_S)
        finished = time.monotonic()
        after = relay.metrics()
        latency = endpoint.latency(windows=LATENCY_WINDOWS)
        sampler.stop()
    finally:
        relay.stop()
    cpu = sampler.cpu_between(started, finished)
    return FixedRateResult(
        rate=rate,
        duration_s=duration_s,
        produced=produced.acknowledged,
        acknowledged=stats["unique"],
        record_to_ack=latency["record_to_ack"],
        record_to_ack_windows=latency["windows"],
        sent_to_ack=latency["sent_to_ack"],
        service_added=HistogramQuantiles.of(subtract_buckets(histogram_buckets(after, RELAY_LATENCY), histogram_buckets(before, RELAY_LATENCY))),
        consume=HistogramQuantiles.of(subtract_buckets(histogram_buckets(after, CONSUME_LATENCY), histogram_buckets(before, CONSUME_LATENCY))),
        relay_cpu_share=cpu / (finished - started) if cpu is not None else None,
        records_per_request=_mean_batch(before, after),
        relay_settings=relay.logged_settings(),
    )


def _mean_batch(before: dict, after: dict) -> float | None:
    def total(samples: dict, name: str) -> float:
        return sum(value for _, value in samples.get(name, []))

    requests = total(after, "relay_batch_records_count") - total(before, "relay_batch_records_count")
    records = total(after, "relay_batch_records_sum") - total(before, "relay_batch_records_sum")
    return records / requests if requests else None


def measure_subscriber(context: BenchContext, rate: int, duration_s: float) -> SubscriberResult:
    """Relay through the AppSync simulator and measure record timestamp → received by a WebSocket subscriber of every symbol."""
    topic = context.topic("subscriber")
    create_topics(context.bootstrap_servers, {topic: context.plan.partitions})
    context.topics_created.append(topic)
    group_id = f"bench-{context.run_id}-subscriber"
    context.groups_created.append(group_id)
    relay = RelayProcess(bootstrap_servers=context.bootstrap_servers, topic=topic, group_id=group_id,
                         appsync_url=context.appsync_url, api_key=context.appsync_api_key, dead_letter_topic=context.dead_letter_topic,
                         log_path=context.log("relay-subscriber"), service_dir=context.service_dir).start()
    try:
        relay.wait_ready()
        wait_all_assigned([relay], context.plan.partitions)
        tally, produced = asyncio.run(_subscribe_while_producing(context, topic, rate, duration_s))
    finally:
        relay.stop()
    summary = latency_summary(tally.latencies_ms)
    return SubscriberResult(rate=rate, duration_s=duration_s, produced=produced, received=tally.received, lost=tally.lost,
                            duplicates=tally.duplicates, out_of_order=tally.out_of_order, record_to_received=summary)


async def _subscribe_while_producing(context: BenchContext, topic: str, rate: int, duration_s: float) -> tuple[Tally, int]:
    tally = Tally()

    def on_message(channel: str, data: dict, received_at_ms: float) -> None:
        # The simulator serves every test on this machine; count only this topic's records.
        if isinstance(data, dict) and data.get("topic") == topic:
            tally.add(channel, data, received_at_ms)

    async with Subscriber(context.appsync_realtime_url, context.appsync_url, context.appsync_api_key, on_message) as subscriber:
        await subscriber.subscribe(synthetic_symbols(SYMBOL_COUNT))
        producer = start_producer(context.bootstrap_servers, topic, rate=rate, duration_s=duration_s, log_path=context.log("producer"))
        produced = (await asyncio.to_thread(producer_result, producer, duration_s + 120)).acknowledged
        deadline = time.monotonic() + _DRAIN_TIMEOUT_S
        while tally.received < produced and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    return tally, produced
