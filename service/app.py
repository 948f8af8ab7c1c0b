"""Wire the relay together, run it until SIGTERM or SIGINT, then drain, commit and leave the group."""

from __future__ import annotations

import asyncio
import signal

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from pydantic import ValidationError

from kafka_client.security import connection_options
from kafka_client.settings import KafkaSettings
from service.appsync_auth import build_auth
from service.consumer import Relay
from service.dead_letter import DeadLetterWriter
from service.errors import ConfigurationError, StartupError
from service.mapping import ChannelRule
from service.metrics import RelayMetrics
from service.mutation_client import MutationClient
from service.ops import OpsServer
from service.partition_worker import WorkerOptions
from service.settings import RelaySettings, describe_validation_error

log = structlog.get_logger(__name__)

_PROBE_INTERVAL_S = 10.0


def load_kafka_settings() -> KafkaSettings:
    try:
        return KafkaSettings()
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error, "KAFKA_")) from None


async def run_relay(settings: RelaySettings, kafka: KafkaSettings, metrics: RelayMetrics | None = None,
                    stop_event: asyncio.Event | None = None, handle_signals: bool = True) -> None:
    """Run until stop_event is set, or SIGTERM/SIGINT arrives when handle_signals; return after a clean shutdown."""
    metrics = metrics or RelayMetrics()
    stop_event = stop_event or asyncio.Event()
    options = connection_options(kafka)

    consumer = AIOKafkaConsumer(
        group_id=settings.group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=settings.fetch_max_partition_bytes,
        **options,
    )
    producer = AIOKafkaProducer(acks="all", enable_idempotence=True, **options)
    client = MutationClient(settings.appsync_url, build_auth(settings), metrics,
                            connections=settings.http_connections, timeout_s=settings.http_timeout_s)
    worker_options = WorkerOptions(
        channel_rule=ChannelRule(source=settings.channel_from, field=settings.channel_field),
        lanes=settings.key_lanes if settings.ordering == "key" else 1,
        batch_max_records=settings.batch_max_records,
        batch_max_bytes=settings.batch_max_bytes,
        batch_linger_s=settings.batch_linger_ms / 1000,
        retry_base_s=settings.retry_base_s,
        retry_max_s=settings.retry_max_s,
        auth_retry_s=settings.auth_retry_s,
    )
    dead_letters = DeadLetterWriter(producer, settings.dead_letter_topic, metrics,
                                    settings.retry_base_s, settings.retry_max_s)
    relay = Relay(consumer, client, dead_letters, metrics, worker_options,
                  queue_max_records=settings.queue_max_records,
                  commit_interval_s=settings.commit_interval_s,
                  revoke_budget_s=settings.revoke_budget_s)
    ops = OpsServer(relay, client, metrics, host=settings.ops_host, port=settings.ops_port,
                    stall_timeout_s=settings.stall_timeout_s)

    if handle_signals:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _request_stop, stop_event, sig)

    try:
        await _start(settings, kafka, ops, client, producer, consumer)
    except BaseException:
        await _close(consumer, producer, client, ops)
        raise
    if settings.topic_pattern:
        consumer.subscribe(pattern=settings.topic_pattern, listener=relay.listener())
    else:
        consumer.subscribe(topics=settings.topic_list, listener=relay.listener())
    log.info("relay started", group_id=settings.group_id, topics=settings.topic_list or None,
             topic_pattern=settings.topic_pattern, ops_port=ops.port)

    run_task = asyncio.create_task(relay.run(), name="poll-loop")
    probe_task = asyncio.create_task(_probe_loop(client), name="appsync-probe")
    stop_task = asyncio.create_task(stop_event.wait())
    await asyncio.wait({run_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    log.info("relay stopping", drain_budget_s=settings.drain_budget_s)
    try:
        relay.stop()
        await _finish(run_task)
        probe_task.cancel()
        await relay.shutdown(settings.drain_budget_s)
    finally:
        stop_task.cancel()
        # Leaving the group lets the other members take the partitions at once.
        await consumer.stop()
        await producer.stop()
        await client.close()
        await ops.stop()
    log.info("relay stopped")


async def _start(settings: RelaySettings, kafka: KafkaSettings, ops: OpsServer, client: MutationClient,
                 producer: AIOKafkaProducer, consumer: AIOKafkaConsumer) -> None:
    """Start every component, translating the failures an operator can fix into StartupError."""
    try:
        await ops.start()
    except OSError as error:
        raise StartupError(
            f"cannot listen on {settings.ops_host}:{settings.ops_port} for /metrics and health checks ({error.strerror}); "
            "set RELAY_OPS_PORT to a free port"
        ) from error
    await client.start()
    try:
        await producer.start()
        await _require_topic(producer, settings.dead_letter_topic)
        await consumer.start()
    except KafkaConnectionError as error:
        raise StartupError(
            f"cannot reach the Kafka brokers at {kafka.bootstrap_servers} ({error}); "
            "check KAFKA_BOOTSTRAP_SERVERS, KAFKA_AUTH and the network path to the brokers"
        ) from error


async def _close(consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, client: MutationClient, ops: OpsServer) -> None:
    """Close whatever a failed start opened, so the process exits without warnings about unclosed clients."""
    for close in (consumer.stop, producer.stop, client.close, ops.stop):
        try:
            await close()
        except Exception as error:  # noqa: BLE001 - closing after a failed start; the first error matters
            log.debug("close after failed start raised", error=repr(error))


async def _require_topic(producer: AIOKafkaProducer, topic: str) -> None:
    # Without this check a missing dead-letter topic would surface only at
    # the first bad record, as a partition retrying forever.
    metadata = await producer.client.fetch_all_metadata()
    if topic not in metadata.topics():
        raise ConfigurationError(
            f"dead-letter topic {topic!r} does not exist; create it (python -m producer create-topics) "
            "or set RELAY_DEAD_LETTER_TOPIC to an existing topic"
        )


def _request_stop(stop_event: asyncio.Event, sig: signal.Signals) -> None:
    log.info("stop signal received", signal=sig.name)
    stop_event.set()


async def _finish(task: asyncio.Task) -> None:
    try:
        await task
    except asyncio.CancelledError:
        pass


async def _probe_loop(client: MutationClient) -> None:
    """Keep readiness current while no records flow: probe AppSync whenever the last request failed."""
    while True:
        if not client.reachable:
            await client.probe()
        await asyncio.sleep(_PROBE_INTERVAL_S)
