"""AWS Lambda entry point: send one cycle of ticks per EventBridge scheduled invocation.

Settings come from PRODUCER_* variables (below) and the KAFKA_* variables of
kafka_client.settings. A replay cycle picks its rows from the schedule time,
so consecutive invocations walk through the data instead of resending its
first rows, with no state kept between invocations.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timezone
from typing import Any, Literal

import structlog
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from kafka_client.security import connection_options
from kafka_client.settings import KafkaSettings, describe_settings_error
from producer.delivery import ProducerConfig
from producer.logs import configure_logging
from producer.pacing import Pace
from producer.records import RecordBuilder, TopicLayout
from producer.run import send_ticks
from producer.sources.replay import load_replay_bars, replay_ticks, rotate
from producer.sources.synthetic import RandomWalk, synthetic_symbols

log = structlog.get_logger(__name__)
_logging_configured = False


class ProducerSettings(BaseSettings):
    """Lambda options; each field is the environment variable PRODUCER_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="PRODUCER_", frozen=True, extra="ignore")

    topic: str = "ticks"
    source: Literal["replay", "synthetic"] = "replay"
    max_records: int = Field(default=60, ge=1, le=100_000, description="records per invocation")
    # 60 records at 10 records/s take 6 s; keep max_records / rate below the function timeout.
    rate: float = Field(default=10.0, gt=0, description="records per second")
    replay_symbols: str = Field(default="^GSPC,^IXIC", description="comma-separated symbols of producer/data")
    synthetic_symbols: int = Field(default=10, ge=1, le=100_000, description="number of synthetic symbols")
    schedule_s: int = Field(default=60, ge=1, description="seconds between scheduled invocations, to pick the replay rows")
    topic_per_symbol: bool = False
    topic_prefix: str = "ticks."
    request_timeout_ms: int = Field(default=10_000, ge=1_000, description="ms before an unacknowledged record or the connection fails")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Send one cycle of ticks and return a summary of what the brokers acknowledged.

    A failed record does not raise: a raised error would make Lambda retry the
    whole invocation and send its acknowledged records twice. Failures are in
    the summary (`ok` false) and in the logs. Invalid settings raise ValueError.
    """
    try:
        settings = ProducerSettings()
        kafka = KafkaSettings()
    except ValidationError as error:
        raise ValueError(describe_settings_error(error, prefix="PRODUCER_" if error.title == "ProducerSettings" else "KAFKA_")) from None
    global _logging_configured
    if not _logging_configured:
        # Once per execution environment (at cold start): CloudWatch reads stdout.
        configure_logging(settings.log_level, json_format=True, stream=sys.stdout)
        _logging_configured = True
    return asyncio.run(_send_cycle(settings, kafka, event, context))


async def _send_cycle(settings: ProducerSettings, kafka: KafkaSettings, event: dict[str, Any], context: Any) -> dict[str, Any]:
    scheduled_at = _scheduled_time(event)
    start = datetime.now(timezone.utc)
    pace = Pace.from_rate(settings.rate)
    cycle = int(scheduled_at.timestamp()) // settings.schedule_s

    first_row = None
    if settings.source == "replay":
        bars = load_replay_bars([symbol.strip() for symbol in settings.replay_symbols.split(",") if symbol.strip()])
        first_row = (cycle * settings.max_records) % len(bars)
        ticks = replay_ticks(rotate(bars, first_row, settings.max_records), start, pace)
    else:
        walk = RandomWalk(synthetic_symbols(settings.synthetic_symbols))
        ticks = walk.ticks(start, pace, limit=settings.max_records)

    builder = RecordBuilder(TopicLayout(topic=settings.topic, per_symbol=settings.topic_per_symbol, prefix=settings.topic_prefix))
    config = ProducerConfig(request_timeout_ms=settings.request_timeout_ms, start_timeout_s=settings.request_timeout_ms / 1000)
    request_id = getattr(context, "aws_request_id", None)
    structlog.contextvars.bind_contextvars(aws_request_id=request_id)
    try:
        result = await send_ticks(connection_options(kafka), ticks, builder, paced=True, config=config)
    finally:
        structlog.contextvars.unbind_contextvars("aws_request_id")

    summary = {
        **result.summary(),
        "source": settings.source,
        "topic": settings.topic if not settings.topic_per_symbol else f"{settings.topic_prefix}<symbol>",
        "scheduled_at": scheduled_at.isoformat(),
        "first_row": first_row,
        "aws_request_id": request_id,
    }
    if result.ok:
        log.info("producer_cycle_done", **summary)
    else:
        log.error("producer_cycle_failed", **summary)
    return summary


def _scheduled_time(event: dict[str, Any]) -> datetime:
    """Return the event's `time` (EventBridge sets it to the scheduled time), or now when absent or invalid."""
    text = event.get("time") if isinstance(event, dict) else None
    if isinstance(text, str):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            log.warning("event_time_invalid", time=text, using="the current time")
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)
