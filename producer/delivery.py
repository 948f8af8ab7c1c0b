"""Send records with an idempotent aiokafka producer and account for every acknowledgement.

Every send is awaited: each record's delivery future gets a callback that
counts it as acknowledged or failed, and `stop` awaits all futures before
it flushes and stops the producer. Nothing is fired and forgotten.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    UnknownTopicOrPartitionError,
)

from producer.metrics import ProducerMetrics
from producer.records import OutgoingRecord

log = structlog.get_logger(__name__)

# After one of these, aiokafka 0.12's idempotent producer rejects every later
# batch of the partition with OutOfOrderSequenceNumber, because it does not
# reset the partition's sequence. A broker-side MessageSizeTooLargeError
# causes the same when other batches of the partition are in flight. A new
# producer (new producer id) starts the sequences afresh.
_SEQUENCE_BREAKING_ERRORS = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch, MessageSizeTooLargeError)
# Individual failures logged per run; the summary counts the rest.
_MAX_LOGGED_FAILURES = 20


class BrokerUnavailableError(RuntimeError):
    """The producer could not connect to the brokers within the start timeout."""


@dataclass(frozen=True, slots=True)
class ProducerConfig:
    """Producer tuning. acks=all and idempotence are fixed, not options."""

    # Bounds how long a record waits for metadata or an acknowledgement before it fails.
    request_timeout_ms: int = 30_000
    # Bounds connecting to the bootstrap servers at start.
    start_timeout_s: float = 30.0
    linger_ms: int = 5
    # aiokafka's default, just under the broker's default message.max.bytes
    # (1,048,588). Keeping it at or below the broker's and topic's limit lets the
    # client reject an oversized record before it takes a sequence number.
    max_request_size: int = 1_048_576
    # Futures kept before the producer awaits them, so long runs use bounded memory.
    max_pending_records: int = 10_000


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    key: str
    topic: str
    error: str


@dataclass(slots=True)
class DeliveryResult:
    """Counts of one run. `acknowledged` counts only records that the brokers acknowledged with acks=all."""

    sent: int = 0
    acknowledged: int = 0
    failures: list[DeliveryFailure] = field(default_factory=list)
    # Set when the run as a whole failed, e.g. no broker was reachable.
    error: str | None = None
    elapsed_s: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failures

    def summary(self, max_failures: int = 20) -> dict[str, Any]:
        """Return the counts as a JSON-ready dict, listing at most `max_failures` failures."""
        return {
            "ok": self.ok,
            "sent": self.sent,
            "acknowledged": self.acknowledged,
            "failed": self.failed,
            "failures": [{"key": failure.key, "topic": failure.topic, "error": failure.error} for failure in self.failures[:max_failures]],
            "failures_omitted": max(0, self.failed - max_failures),
            "error": self.error,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def describe_error(error: BaseException, record: OutgoingRecord) -> str:
    """Return a one-line description of why `record` failed, with the fix where one is known."""
    name = type(error).__name__
    if isinstance(error, MessageSizeTooLargeError):
        return (
            f"{name}: the record is {len(record.value)} bytes of value, over the producer's max_request_size or the "
            "broker's message.max.bytes (topic max.message.bytes); send smaller records"
        )
    if isinstance(error, OutOfOrderSequenceNumber):
        return f"{name}: an earlier batch of the same partition failed, so the broker rejected this one; the producer restarts"
    if isinstance(error, UnknownTopicOrPartitionError):
        return (
            f"{name}: topic {record.topic!r} does not exist; create it, e.g. with python -m producer create-topics, "
            "because MSK and the local broker do not create topics automatically"
        )
    if isinstance(error, KafkaTimeoutError):
        return f"{name}: no acknowledgement within request_timeout_ms; check that topic {record.topic!r} exists and its leader is reachable"
    detail = str(error)
    return f"{name}: {detail}" if detail and detail != name else name


class RecordProducer:
    """An AIOKafkaProducer with acks=all and idempotence that records the outcome of every send in `result`."""

    def __init__(self, options: dict, config: ProducerConfig = ProducerConfig(), metrics: ProducerMetrics | None = None):
        self.options = options
        self.config = config
        self.metrics = metrics
        self.result = DeliveryResult()
        self._producer: AIOKafkaProducer | None = None
        self._pending: deque[asyncio.Future] = deque()
        self._restart_needed = False
        # Topics whose metadata lookup failed: later records to them fail at once
        # instead of each waiting request_timeout_ms for the same error.
        self._missing_topics: dict[str, str] = {}
        self._started_at = time.monotonic()

    async def start(self) -> None:
        """Connect to the brokers; raise BrokerUnavailableError after `start_timeout_s` or on refusal."""
        self._started_at = time.monotonic()
        try:
            self._producer = await self._start_producer()
        finally:
            self.result.elapsed_s = time.monotonic() - self._started_at

    async def _start_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            **self.options,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=self.config.request_timeout_ms,
            linger_ms=self.config.linger_ms,
            max_request_size=self.config.max_request_size,
        )
        try:
            await asyncio.wait_for(producer.start(), timeout=self.config.start_timeout_s)
        except (KafkaError, OSError, TimeoutError) as error:
            with suppress(Exception):
                await producer.stop()
            reason = (
                f"no connection within {self.config.start_timeout_s:g} s"
                if isinstance(error, TimeoutError)
                else f"{type(error).__name__}: {error}"
            )
            raise BrokerUnavailableError(
                f"cannot connect to Kafka at {self.options.get('bootstrap_servers')} ({reason}); "
                "check KAFKA_BOOTSTRAP_SERVERS, KAFKA_AUTH and that the brokers are reachable from here"
            ) from error
        log.info("kafka_producer_started", bootstrap_servers=self.options.get("bootstrap_servers"))
        return producer

    async def send(self, record: OutgoingRecord) -> None:
        """Hand `record` to the producer; its acknowledgement or failure is counted when it arrives.

        Waits when the producer's buffer is full or `max_pending_records` are
        unacknowledged. Raises BrokerUnavailableError when a needed restart
        cannot reconnect.
        """
        if self._producer is None:
            raise RuntimeError("RecordProducer.send called before start")
        if self._restart_needed:
            await self._restart()

        self.result.sent += 1
        if self.metrics:
            self.metrics.records_sent.inc()
        missing = self._missing_topics.get(record.topic)
        if missing is not None:
            self.fail(record, missing)
            return
        sent_at = time.perf_counter()
        try:
            future = await self._producer.send(record.topic, record.value, key=record.key, headers=list(record.headers))
        except KafkaError as error:
            # Rejected before it was queued: too large for max_request_size, or no metadata for the topic in time.
            self.fail(record, error)
            if isinstance(error, (UnknownTopicOrPartitionError, KafkaTimeoutError)):
                self._missing_topics[record.topic] = describe_error(error, record)
            return
        future.add_done_callback(lambda done: self._on_delivery(record, sent_at, done))
        self._pending.append(future)
        if len(self._pending) >= self.config.max_pending_records:
            await self.wait_for_acknowledgements()

    def fail(self, record: OutgoingRecord, error: BaseException | str) -> None:
        """Count `record` as failed with `error`."""
        description = error if isinstance(error, str) else describe_error(error, record)
        self.result.failures.append(DeliveryFailure(key=record.key_text, topic=record.topic, error=description))
        if self.metrics:
            self.metrics.records_failed.inc()
        if self.result.failed <= _MAX_LOGGED_FAILURES:
            log.warning("record_delivery_failed", key=record.key_text, topic=record.topic, error=description)
        elif self.result.failed == _MAX_LOGGED_FAILURES + 1:
            log.warning("record_delivery_failures_not_logged", after=_MAX_LOGGED_FAILURES, reason="the closing summary counts them")

    def _on_delivery(self, record: OutgoingRecord, sent_at: float, future: asyncio.Future) -> None:
        if future.cancelled():
            self.fail(record, "the send was cancelled before the brokers acknowledged it")
            return
        error = future.exception()
        if error is None:
            self.result.acknowledged += 1
            if self.metrics:
                self.metrics.records_acknowledged.inc()
                self.metrics.send_latency.observe(time.perf_counter() - sent_at)
            return
        self.fail(record, error)
        if isinstance(error, _SEQUENCE_BREAKING_ERRORS):
            self._restart_needed = True

    async def wait_for_acknowledgements(self) -> None:
        """Await every pending delivery future; the callbacks have counted each one when this returns."""
        while self._pending:
            batch = list(self._pending)
            self._pending.clear()
            # The counting callbacks were added before gather's own, so they run first.
            await asyncio.gather(*batch, return_exceptions=True)

    async def _restart(self) -> None:
        await self.wait_for_acknowledgements()
        log.warning("kafka_producer_restarting", reason="a failed batch broke the idempotent producer's sequence numbers")
        old, self._producer = self._producer, None
        with suppress(KafkaError):
            await old.stop()
        self._restart_needed = False
        self._producer = await self._start_producer()

    async def stop(self) -> None:
        """Await all pending acknowledgements, then flush and stop the producer."""
        try:
            await self.wait_for_acknowledgements()
        finally:
            if self._producer is not None:
                producer, self._producer = self._producer, None
                await producer.flush()
                await producer.stop()
            self.result.elapsed_s = time.monotonic() - self._started_at
            log.info("kafka_producer_stopped", sent=self.result.sent, acknowledged=self.result.acknowledged, failed=self.result.failed)
