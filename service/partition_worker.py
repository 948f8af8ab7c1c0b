"""One worker per assigned partition: batch its records, publish them in order, track what is done."""

from __future__ import annotations

import asyncio
import time
import zlib
from dataclasses import dataclass

import structlog
from aiokafka import TopicPartition

from service.backoff import retry_delay_s
from service.dead_letter import DeadLetterWriter
from service.errors import DecodeError, DeliveryError, MutationRejectedError, RecordError
from service.mapping import ChannelRule, KafkaRecord, Publication, map_record
from service.metrics import RelayMetrics
from service.mutation_client import MutationClient
from service.offsets import OffsetTracker

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    channel_rule: ChannelRule
    lanes: int = 1
    batch_max_records: int = 50
    batch_max_bytes: int = 1_000_000
    batch_linger_s: float = 0.005
    retry_base_s: float = 0.1
    retry_max_s: float = 10.0
    auth_retry_s: float = 30.0


class PartitionWorker:
    """Publish one partition's records.

    With one lane, records are published in offset order. With several lanes
    (ordering by key), a record goes to the lane of its key's hash, so each
    key keeps its order while different keys are in flight together.
    """

    def __init__(self, tp: TopicPartition, client: MutationClient, dead_letters: DeadLetterWriter,
                 metrics: RelayMetrics, options: WorkerOptions):
        self.tp = tp
        self.offsets = OffsetTracker()
        self._client = client
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._options = options
        labels = {"topic": tp.topic, "partition": str(tp.partition)}
        # Resolve the labelled series once: a labels() lookup per record costs
        # more than the observation itself.
        self._consumed = metrics.records_consumed.labels(**labels)
        self._published = metrics.records_published.labels(**labels)
        self._consume_latency = metrics.consume_latency.labels(topic=tp.topic)
        self._relay_latency = metrics.relay_latency.labels(topic=tp.topic)
        self._end_to_end_latency = metrics.end_to_end_latency.labels(topic=tp.topic)
        self._lanes = [_Lane(self, index) for index in range(options.lanes)]
        self.last_progress_at = time.monotonic()
        self.failed = False

    def start(self) -> None:
        for lane in self._lanes:
            lane.start()

    def put(self, record: KafkaRecord) -> None:
        self.offsets.add(record.offset)
        self._consumed.inc()
        now_ms = time.time() * 1000
        self._consume_latency.observe(max(0.0, now_ms - record.timestamp) / 1000)
        lane = 0 if len(self._lanes) == 1 or record.key is None else zlib.crc32(record.key) % len(self._lanes)
        self._lanes[lane].queue.put_nowait((record, time.monotonic()))

    @property
    def pending(self) -> int:
        """Records consumed and not yet acknowledged or dead-lettered."""
        return self.offsets.pending

    @property
    def is_retrying(self) -> bool:
        return any(lane.retrying for lane in self._lanes)

    async def stop(self, budget_s: float) -> None:
        """Let in-flight batches finish within budget_s, then cancel; queued records stay uncommitted."""
        for lane in self._lanes:
            lane.closing = True
        # Only a lane with a request on the wire has anything to finish. A lane
        # that is idle or waiting out a retry backoff stops at once.
        idle = [lane.task for lane in self._lanes if lane.task and not lane.in_request]
        busy = [lane.task for lane in self._lanes if lane.task and lane.in_request]
        for task in idle:
            task.cancel()
        if busy:
            done, not_done = await asyncio.wait(busy, timeout=budget_s)
            for task in not_done:
                task.cancel()
            if not_done:
                log.warning("drain budget exceeded; in-flight batches cancelled", topic=self.tp.topic,
                            partition=self.tp.partition, budget_s=budget_s, cancelled_lanes=len(not_done))
        await asyncio.gather(*(lane.task for lane in self._lanes if lane.task), return_exceptions=True)

    def _finished(self, record: KafkaRecord) -> None:
        self.offsets.finish(record.offset)
        self.last_progress_at = time.monotonic()


class _Lane:
    def __init__(self, worker: PartitionWorker, index: int):
        self.worker = worker
        self.index = index
        self.queue: asyncio.Queue[tuple[KafkaRecord, float]] = asyncio.Queue()
        self.task: asyncio.Task | None = None
        self.in_request = False
        self.closing = False
        self.retrying = False

    def start(self) -> None:
        tp = self.worker.tp
        self.task = asyncio.create_task(self._run(), name=f"partition-{tp.topic}-{tp.partition}-lane-{self.index}")

    async def _run(self) -> None:
        options = self.worker._options
        batch: list[tuple[KafkaRecord, float]] = []
        try:
            while not self.closing:
                first = await self.queue.get()
                batch = await self._collect(first, options.batch_max_records, options.batch_linger_s)
                await self._deliver(batch)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # A bug, not a record: the partition cannot go on without losing
            # order, so /healthz turns red and the orchestrator restarts the
            # service, which resumes from the last committed offset.
            self.worker.failed = True
            first = batch[0][0] if batch else None
            log.error("partition worker failed", topic=self.worker.tp.topic, partition=self.worker.tp.partition,
                      offset=first.offset if first else None, error=repr(error), exc_info=True)

    async def _collect(self, first, max_records: int, linger_s: float) -> list[tuple[KafkaRecord, float]]:
        batch = [first]
        deadline = time.monotonic() + linger_s
        while len(batch) < max_records:
            if not self.queue.empty():
                batch.append(self.queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self.queue.get(), remaining))
            except asyncio.TimeoutError:
                break
        return batch

    async def _deliver(self, batch: list[tuple[KafkaRecord, float]]) -> None:
        ready: list[tuple[KafkaRecord, float, Publication]] = []
        for record, consumed_at in batch:
            try:
                ready.append((record, consumed_at, map_record(record, self.worker._options.channel_rule)))
            except RecordError as error:
                await self._dead_letter(record, error)
            except Exception as error:  # noqa: BLE001 - one record must never stop its partition
                await self._dead_letter(record, DecodeError(f"mapping the record failed: {error!r}"))
        for chunk in _chunks(ready, self.worker._options.batch_max_bytes):
            if self.closing:
                return  # left uncommitted; the next owner of the partition publishes it
            await self._publish_with_retry(chunk)

    async def _publish_with_retry(self, chunk: list[tuple[KafkaRecord, float, Publication]]) -> None:
        worker, options = self.worker, self.worker._options
        attempt = 0
        while True:
            try:
                outcomes = await self._send(chunk)
                break
            except MutationRejectedError as error:
                # The request was rejected as a whole without naming a record:
                # send the records one by one to find the one at fault.
                if len(chunk) == 1:
                    await self._dead_letter(chunk[0][0], error)
                    return
                for single in chunk:
                    await self._publish_with_retry([single])
                return
            except DeliveryError as error:
                if self.closing:
                    return  # shutting down: no retry, and nothing of this chunk is committed
                attempt += 1
                self.retrying = True
                delay = retry_delay_s(error, attempt, options.retry_base_s, options.retry_max_s, options.auth_retry_s)
                worker._metrics.retries.labels(cause=error.reason).inc()
                first = chunk[0][0]
                logger = log.error if error.reason == "unauthorized" else log.warning
                logger("mutation request failed; retrying", topic=first.topic, partition=first.partition,
                       offset=first.offset, records=len(chunk), attempt=attempt, retry_in_s=round(delay, 3),
                       cause=error.reason, error=str(error))
                await asyncio.sleep(delay)
        self.retrying = False
        acknowledged_at = time.monotonic()
        now_ms = time.time() * 1000
        for (record, consumed_at, _), outcome in zip(chunk, outcomes):
            if outcome is None:
                worker._published.inc()
                worker._relay_latency.observe(acknowledged_at - consumed_at)
                worker._end_to_end_latency.observe(max(0.0, now_ms - record.timestamp) / 1000)
                worker._finished(record)
            else:
                await self._dead_letter(record, outcome)

    async def _send(self, chunk: list[tuple[KafkaRecord, float, Publication]]) -> list[RecordError | None]:
        sent_at_ms = int(time.time() * 1000)
        channels = [publication.channel for _, _, publication in chunk]
        data = [publication.encode_data(sent_at_ms) for _, _, publication in chunk]
        self.in_request = True
        try:
            return await self.worker._client.publish(channels, data)
        finally:
            self.in_request = False

    async def _dead_letter(self, record: KafkaRecord, error: RecordError) -> None:
        await self.worker._dead_letters.write(record, error)
        self.worker._finished(record)


def _chunks(ready: list, max_bytes: int):
    """Split a batch so no request body grows past max_bytes of data."""
    chunk, size = [], 0
    for item in ready:
        item_size = len(item[2].data_prefix) + len(item[2].channel) + 64
        if chunk and size + item_size > max_bytes:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk
