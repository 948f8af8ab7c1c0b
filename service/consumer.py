"""The consumer group member: assign partitions to workers, apply backpressure, commit what is done."""

from __future__ import annotations

import asyncio
import time

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError

from service.dead_letter import DeadLetterWriter
from service.metrics import RelayMetrics
from service.mutation_client import MutationClient
from service.partition_worker import PartitionWorker, WorkerOptions

log = structlog.get_logger(__name__)

_POLL_TIMEOUT_MS = 100
_LAG_INTERVAL_S = 2.0


class Relay:
    """Consume the subscribed topics and hand each assigned partition to its own PartitionWorker."""

    def __init__(self, consumer: AIOKafkaConsumer, client: MutationClient, dead_letters: DeadLetterWriter,
                 metrics: RelayMetrics, options: WorkerOptions, *, queue_max_records: int,
                 commit_interval_s: float, revoke_budget_s: float):
        self.consumer = consumer
        self.workers: dict[TopicPartition, PartitionWorker] = {}
        self.joined_group = False
        self._client = client
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._options = options
        self._queue_max_records = queue_max_records
        self._commit_interval_s = commit_interval_s
        self._revoke_budget_s = revoke_budget_s
        self._committed: dict[TopicPartition, int] = {}
        self._paused: set[TopicPartition] = set()
        self._stopping = asyncio.Event()
        self._commit_lock = asyncio.Lock()

    def listener(self) -> ConsumerRebalanceListener:
        return _RebalanceListener(self)

    # Poll loop -----------------------------------------------------------

    async def run(self) -> None:
        """Poll until stop() is called. The commit and lag loops run beside it."""
        background = [
            asyncio.create_task(self._commit_loop(), name="commit-loop"),
            asyncio.create_task(self._lag_loop(), name="lag-loop"),
        ]
        try:
            while not self._stopping.is_set():
                # No max_records: aiokafka fills a capped poll from one
                # partition, starving the other lanes. A partition contains at
                # most its pause threshold plus one fetch (max_partition_fetch_bytes).
                batches = await self.consumer.getmany(timeout_ms=_POLL_TIMEOUT_MS)
                for tp, records in batches.items():
                    worker = self.workers.get(tp)
                    if worker is None:
                        continue  # revoked between the fetch and now
                    for record in records:
                        worker.put(record)
                self._apply_backpressure()
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)

    def stop(self) -> None:
        self._stopping.set()

    def _apply_backpressure(self) -> None:
        """Pause a partition whose worker is full or retrying; resume it once drained to half."""
        for tp, worker in self.workers.items():
            if tp not in self._paused and (worker.pending >= self._queue_max_records or worker.is_retrying):
                self.consumer.pause(tp)
                self._paused.add(tp)
                log.debug("partition paused", topic=tp.topic, partition=tp.partition, pending=worker.pending,
                          retrying=worker.is_retrying)
            elif tp in self._paused and worker.pending <= self._queue_max_records // 2 and not worker.is_retrying:
                self.consumer.resume(tp)
                self._paused.discard(tp)
                log.debug("partition resumed", topic=tp.topic, partition=tp.partition, pending=worker.pending)
        self._metrics.paused_partitions.set(len(self._paused))
        self._metrics.queued_records.set(sum(worker.pending for worker in self.workers.values()))

    # Assignment -----------------------------------------------------------

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        self.joined_group = True
        self._metrics.rebalances.inc()
        for tp in assigned:
            if tp in self.workers:
                continue
            worker = PartitionWorker(tp, self._client, self._dead_letters, self._metrics, self._options)
            worker.start()
            self.workers[tp] = worker
        self._metrics.assigned_partitions.set(len(self.workers))
        log.info("partitions assigned", partitions=_names(assigned), assigned_total=len(self.workers))

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Drain only the revoked partitions within the revoke budget, then commit them."""
        leaving = [tp for tp in revoked if tp in self.workers]
        log.info("partitions revoked", partitions=_names(leaving))
        await self._stop_workers(leaving, self._revoke_budget_s)

    async def shutdown(self, budget_s: float) -> None:
        """Drain every partition within budget_s and commit what finished."""
        await self._stop_workers(list(self.workers), budget_s)

    async def _stop_workers(self, tps: list[TopicPartition], budget_s: float) -> None:
        if not tps:
            return
        await asyncio.gather(*(self.workers[tp].stop(budget_s) for tp in tps))
        # Commit even when the surrounding task is being cancelled: losing this
        # commit means publishing the drained records a second time.
        await asyncio.shield(self.commit(tps))
        for tp in tps:
            self.workers.pop(tp, None)
            self._paused.discard(tp)
            self._committed.pop(tp, None)
            self._metrics.forget_partition(tp.topic, tp.partition)
        self._metrics.assigned_partitions.set(len(self.workers))

    # Commits ----------------------------------------------------------------

    async def commit(self, tps: list[TopicPartition] | None = None) -> None:
        """Commit, for each partition, the lowest offset not yet acknowledged or dead-lettered."""
        async with self._commit_lock:
            offsets = {}
            for tp in tps if tps is not None else list(self.workers):
                worker = self.workers.get(tp)
                offset = worker.offsets.committable() if worker else None
                if offset is not None and offset > self._committed.get(tp, -1):
                    offsets[tp] = offset
            if not offsets:
                return
            try:
                await self.consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError, KafkaError) as error:
                # The partitions moved to another member during a rebalance.
                # Their new owner starts from the last committed offset, so the
                # worst outcome is a duplicate, never a loss.
                self._metrics.commit_failures.inc()
                log.warning("offset commit failed", partitions=_names(offsets), error=repr(error))
                return
            for tp, offset in offsets.items():
                self._committed[tp] = offset
                self._metrics.committed_offset.labels(topic=tp.topic, partition=str(tp.partition)).set(offset)
            log.debug("offsets committed", offsets={f"{tp.topic}/{tp.partition}": offset for tp, offset in offsets.items()})

    async def _commit_loop(self) -> None:
        while True:
            await asyncio.sleep(self._commit_interval_s)
            await self.commit()

    # Lag and health -----------------------------------------------------------

    async def _lag_loop(self) -> None:
        while True:
            await asyncio.sleep(_LAG_INTERVAL_S)
            tps = list(self.workers)
            if not tps:
                continue
            try:
                # The consumer learns high watermarks only from fetch responses,
                # which stop while a partition is paused, so ask the broker.
                highwaters = await self.consumer.end_offsets(tps)
            except KafkaError as error:
                log.warning("end offsets for the lag metric failed; keeping the last values",
                            partitions=_names(tps), error=repr(error))
                continue
            for tp in tps:
                if tp not in self.workers:
                    continue  # revoked meanwhile, and forget_partition removed its series
                lag = await self.lag(tp, highwaters.get(tp))
                if lag is not None and tp in self.workers:
                    self._metrics.lag.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)

    async def lag(self, tp: TopicPartition, highwater: int | None = None) -> int | None:
        """High watermark minus the committed position: records not yet acknowledged.

        Without a highwater, the consumer's last fetched one is used.
        """
        if highwater is None:
            if tp not in self.consumer.assignment():
                return None  # revoked while a /healthz request was running; highwater() would assert
            highwater = self.consumer.highwater(tp)
        if highwater is None:
            return None
        worker = self.workers.get(tp)
        position = worker.offsets.committable() if worker else None
        if position is None:
            try:
                position = await self.consumer.position(tp)
            except (IllegalStateError, KafkaError):
                return None
            if worker is not None:
                # Until its first record finishes, a worker has no committable
                # offset although records may wait in it, and the fetch
                # position is already past them.
                # NOTE: offsets skipped by compaction or transaction markers
                # make this count a few records too many.
                position -= worker.pending
        return max(0, highwater - position)

    async def stalled_partitions(self, stall_timeout_s: float) -> list[str]:
        """Names of partitions with lag that made no progress for stall_timeout_s."""
        now = time.monotonic()
        stalled = []
        for tp, worker in list(self.workers.items()):
            if worker.failed:
                stalled.append(f"{tp.topic}/{tp.partition}")
                continue
            if now - worker.last_progress_at < stall_timeout_s:
                continue
            lag = await self.lag(tp)
            if lag:
                stalled.append(f"{tp.topic}/{tp.partition}")
        return stalled


class _RebalanceListener(ConsumerRebalanceListener):
    def __init__(self, relay: Relay):
        self._relay = relay

    async def on_partitions_revoked(self, revoked):
        await self._relay.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned):
        await self._relay.on_assigned(set(assigned))


def _names(tps) -> list[str]:
    return sorted(f"{tp.topic}/{tp.partition}" for tp in tps)
