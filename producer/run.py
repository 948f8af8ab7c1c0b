"""Run a delivery: ticks from a source, paced by their timestamps, built into records and sent.

Both entry points, the CLI and the Lambda handler, go through `send_ticks`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import AsyncIterable, AsyncIterator, Iterable

import structlog

from producer.delivery import BrokerUnavailableError, DeliveryResult, ProducerConfig, RecordProducer
from producer.metrics import ProducerMetrics
from producer.records import OutgoingRecord, RecordBuilder
from producer.tick import Tick

log = structlog.get_logger(__name__)

# A paced run sleeps at least this long when the next record is not yet due,
# so that at high rates it sends the records due by then as one small batch
# instead of waking up once per record.
MIN_SLEEP_S = 0.005


def epoch_ms(moment: float | None = None) -> int:
    return int((time.time() if moment is None else moment) * 1000)


async def send_ticks(
    options: dict,
    ticks: Iterable[Tick] | AsyncIterable[Tick],
    builder: RecordBuilder,
    *,
    paced: bool = True,
    config: ProducerConfig = ProducerConfig(),
    metrics: ProducerMetrics | None = None,
    stop: asyncio.Event | None = None,
    producer: RecordProducer | None = None,
) -> DeliveryResult:
    """Send a record per tick and return the counts once every record is acknowledged or failed.

    With `paced`, each tick is sent when its `ts` comes, so the run keeps the
    source's schedule without drift. When no broker is reachable, each record
    of a finite (synchronous) `ticks` is reported failed with its key, without
    waiting for its time. An asynchronous source, such as the live one, is not
    read then, and `result.error` contains the reason. Setting `stop` ends the run early.
    """
    producer = producer or RecordProducer(options, config, metrics)
    try:
        await producer.start()
    except BrokerUnavailableError as error:
        return _fail_all(producer, ticks, builder, error)

    try:
        async for tick in _iterate(ticks, stop):
            if stop is not None and stop.is_set():
                break
            if paced and not await _wait_until(tick.ts, stop):
                break
            await producer.send(builder.build(tick, produced_at_ms=epoch_ms()))
    except BrokerUnavailableError as error:
        # A restart after a sequence error could not reconnect.
        # NOTE: the ticks not yet sent are then not listed as failures; result.error marks the run as failed.
        producer.result.error = str(error)
        log.error("kafka_producer_lost", error=str(error))
    finally:
        await producer.stop()
    return producer.result


async def deliver_records(
    options: dict,
    records: Iterable[OutgoingRecord],
    *,
    config: ProducerConfig = ProducerConfig(),
    metrics: ProducerMetrics | None = None,
) -> DeliveryResult:
    """Send ready-made records as fast as the brokers accept them; return the counts once all are settled."""
    producer = RecordProducer(options, config, metrics)
    try:
        await producer.start()
    except BrokerUnavailableError as error:
        for record in records:
            producer.fail(record, str(error))
        producer.result.error = str(error)
        return producer.result
    try:
        for record in records:
            await producer.send(record)
    except BrokerUnavailableError as error:
        producer.result.error = str(error)
    finally:
        await producer.stop()
    return producer.result


def _fail_all(producer: RecordProducer, ticks, builder: RecordBuilder, error: BrokerUnavailableError) -> DeliveryResult:
    producer.result.error = str(error)
    log.error("kafka_unreachable", error=str(error))
    if isinstance(ticks, Iterable):
        for tick in ticks:
            producer.fail(builder.build(tick, produced_at_ms=epoch_ms()), str(error))
    return producer.result


async def _iterate(ticks: Iterable[Tick] | AsyncIterable[Tick], stop: asyncio.Event | None) -> AsyncIterator[Tick]:
    if not isinstance(ticks, AsyncIterable):
        for tick in ticks:
            yield tick
        return

    iterator = aiter(ticks)
    stop_waiter = asyncio.ensure_future(stop.wait()) if stop is not None else None
    try:
        while True:
            next_tick = asyncio.ensure_future(anext(iterator))
            # An asynchronous source may wait long for its next tick (the live
            # source polls once a minute), so wait for the tick and `stop` together.
            waiting = {next_tick} if stop_waiter is None else {next_tick, stop_waiter}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if not next_tick.done():
                next_tick.cancel()
                return
            try:
                tick = next_tick.result()
            except StopAsyncIteration:
                return
            yield tick
    finally:
        if stop_waiter is not None:
            stop_waiter.cancel()


async def _wait_until(due: datetime, stop: asyncio.Event | None) -> bool:
    """Sleep until `due`; return False if `stop` was set meanwhile."""
    delay = (due - datetime.now(timezone.utc)).total_seconds()
    if delay <= 0:
        return True
    delay = max(delay, MIN_SLEEP_S)
    if stop is None:
        await asyncio.sleep(delay)
        return True
    try:
        await asyncio.wait_for(stop.wait(), timeout=delay)
    except TimeoutError:
        return True
    return False
