"""Prometheus metrics of the producer, registered in an injectable registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

# From 1 ms to 10 s: acks=all on a healthy cluster takes a few milliseconds,
# and request_timeout_ms bounds the slow end.
_LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ProducerMetrics:
    """Counters of records sent, acknowledged and failed, and the send-to-acknowledgement latency."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry if registry is not None else CollectorRegistry()
        self.records_sent = Counter("producer_records_sent_total", "Records handed to the Kafka producer.", registry=self.registry)
        self.records_acknowledged = Counter(
            "producer_records_acknowledged_total", "Records that the brokers acknowledged (acks=all).", registry=self.registry
        )
        self.records_failed = Counter(
            "producer_records_failed_total",
            "Records that the producer rejected or the brokers did not acknowledge.",
            registry=self.registry,
        )
        self.send_latency = Histogram(
            "producer_send_latency_seconds",
            "Seconds from handing a record to the producer until the brokers acknowledged it.",
            buckets=_LATENCY_BUCKETS_S,
            registry=self.registry,
        )


def serve_metrics(metrics: ProducerMetrics, port: int, host: str = "127.0.0.1") -> None:
    """Serve the metrics on http://host:port/metrics from a daemon thread."""
    start_http_server(port, addr=host, registry=metrics.registry)
