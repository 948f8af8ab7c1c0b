"""Write records that cannot be published to the dead-letter topic."""

from __future__ import annotations

import asyncio
import random
import time

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from service.errors import RelayError
from service.mapping import KafkaRecord
from service.metrics import RelayMetrics

log = structlog.get_logger(__name__)

HEADER_PREFIX = "dlq."
_MAX_MESSAGE_CHARS = 1000


def dead_letter_headers(record: KafkaRecord, error: RelayError, failed_at_ms: int) -> list[tuple[str, bytes]]:
    """Return the record's own headers followed by the reason it was dead-lettered."""
    reason = [
        ("error.class", type(error).__name__),
        ("error.reason", error.reason),
        ("error.message", str(error)[:_MAX_MESSAGE_CHARS]),
        ("source.topic", record.topic),
        ("source.partition", str(record.partition)),
        ("source.offset", str(record.offset)),
        ("source.timestamp_ms", str(record.timestamp)),
        ("failed_at_ms", str(failed_at_ms)),
    ]
    return list(record.headers or ()) + [(HEADER_PREFIX + name, value.encode("utf-8")) for name, value in reason]


class DeadLetterWriter:
    def __init__(self, producer: AIOKafkaProducer, topic: str, metrics: RelayMetrics,
                 retry_base_s: float = 0.1, retry_max_s: float = 10.0):
        self._producer = producer
        self.topic = topic
        self._metrics = metrics
        self._retry_base_s = retry_base_s
        self._retry_max_s = retry_max_s

    async def write(self, record: KafkaRecord, error: RelayError) -> None:
        """Write the record and wait for the broker's acknowledgement, retrying until it comes.

        The caller commits the record's offset only after this returns, so a
        record is never lost between the source and the dead-letter topic.
        """
        headers = dead_letter_headers(record, error, int(time.time() * 1000))
        attempt = 0
        while True:
            try:
                await self._producer.send_and_wait(self.topic, value=record.value, key=record.key, headers=headers)
                break
            except KafkaError as send_error:
                attempt += 1
                delay = random.uniform(0, min(self._retry_max_s, self._retry_base_s * 2 ** attempt))
                self._metrics.retries.labels(cause="dead_letter_write").inc()
                log.error("dead-letter write failed; retrying", dead_letter_topic=self.topic, topic=record.topic,
                          partition=record.partition, offset=record.offset, attempt=attempt,
                          retry_in_s=round(delay, 3), error=repr(send_error))
                await asyncio.sleep(delay)
        self._metrics.records_dead_lettered.labels(topic=record.topic, reason=error.reason).inc()
        log.warning("record dead-lettered", topic=record.topic, partition=record.partition, offset=record.offset,
                    reason=error.reason, error=str(error)[:_MAX_MESSAGE_CHARS], dead_letter_topic=self.topic)
