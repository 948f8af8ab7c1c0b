"""Prometheus metrics of the relay, on an injectable registry.

Labels stay bounded: topic, partition, reason and cause; never an offset or
a key.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

# Without this, every counter and histogram child also exports a *_created
# series. Nothing here queries them, and each one adds a series to store and,
# in Amazon Managed Service for Prometheus, to pay for. The switch is global
# to the process, which is the relay alone in production.
disable_created_metrics()

# From 1 ms to 60 s: a local run sits in the low milliseconds, while a stalled
# AppSync or a broker restart pushes latency into tens of seconds.
LATENCY_BUCKETS_S = (
    0.001, 0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5,
    0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)
BATCH_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)


class RelayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        if registry is None:
            registry = CollectorRegistry()
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                registry.register(collector)
        self.registry = registry
        partition = ["topic", "partition"]

        self.records_consumed = Counter(
            "relay_records_consumed_total", "Records read from Kafka.", partition, registry=registry)
        self.records_published = Counter(
            "relay_records_published_total", "Records acknowledged by AppSync.", partition, registry=registry)
        self.records_dead_lettered = Counter(
            "relay_records_dead_lettered_total", "Records written to the dead-letter topic, by reason.",
            ["topic", "reason"], registry=registry)
        self.retries = Counter(
            "relay_retries_total",
            "Retries, by cause: the delivery error of a mutation request, or dead_letter_write for a failed "
            "write to the dead-letter topic.",
            ["cause"], registry=registry)
        self.requests = Counter(
            "relay_mutation_requests_total",
            "Mutation requests by outcome: ok, or the error's reason. Failed readiness probes count too.",
            ["outcome"], registry=registry)

        self.mutation_latency = Histogram(
            "relay_mutation_request_duration_seconds",
            "Duration of one AppSync request, failed ones and the readiness probe included.",
            buckets=LATENCY_BUCKETS_S, registry=registry)
        self.batch_size = Histogram(
            "relay_batch_records", "Records per mutation request, each retry counted again.",
            buckets=BATCH_SIZE_BUCKETS, registry=registry)
        self.request_bytes = Counter(
            "relay_mutation_request_bytes_total", "Bytes of mutation request bodies sent.", registry=registry)

        self.consume_latency = Histogram(
            "relay_record_consume_latency_seconds", "Record timestamp to consumed by the relay.",
            ["topic"], buckets=LATENCY_BUCKETS_S, registry=registry)
        self.relay_latency = Histogram(
            "relay_record_relay_latency_seconds", "Consumed by the relay to acknowledged by AppSync.",
            ["topic"], buckets=LATENCY_BUCKETS_S, registry=registry)
        self.end_to_end_latency = Histogram(
            "relay_record_end_to_end_latency_seconds", "Record timestamp to acknowledged by AppSync.",
            ["topic"], buckets=LATENCY_BUCKETS_S, registry=registry)

        self.lag = Gauge(
            "relay_consumer_lag_records",
            "High watermark minus the lowest offset not yet acknowledged or dead-lettered, per partition.",
            partition, registry=registry)
        self.committed_offset = Gauge(
            "relay_committed_offset", "Last offset committed (the next offset to consume), per partition.",
            partition, registry=registry)
        self.in_flight_requests = Gauge(
            "relay_in_flight_requests", "Mutation requests awaiting a response.", registry=registry)
        self.paused_partitions = Gauge(
            "relay_paused_partitions", "Partitions paused for backpressure or a retry.", registry=registry)
        self.assigned_partitions = Gauge(
            "relay_assigned_partitions", "Partitions assigned to this member.", registry=registry)
        self.queued_records = Gauge(
            "relay_queued_records", "Records consumed and not yet acknowledged, over all partitions.", registry=registry)
        self.rebalances = Counter(
            "relay_rebalances_total", "Partition assignments received.", registry=registry)
        self.commit_failures = Counter(
            "relay_commit_failures_total", "Offset commits that failed.", registry=registry)

    def forget_partition(self, topic: str, partition: int) -> None:
        """Drop the gauges of a partition this member no longer owns."""
        for gauge in (self.lag, self.committed_offset):
            try:
                gauge.remove(topic, str(partition))
            except KeyError:
                pass
