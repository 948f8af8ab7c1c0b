"""Command line: `python -m producer send` and `python -m producer create-topics`.

Connection settings come from the KAFKA_* environment variables (see
kafka_client.settings); --bootstrap-servers overrides KAFKA_BOOTSTRAP_SERVERS.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import signal
import sys
from datetime import datetime, timezone
from typing import AsyncIterable, Iterable

import structlog
from pydantic import ValidationError

from kafka_client.security import CredentialsError, connection_options
from kafka_client.settings import KafkaSettings, describe_settings_error
from kafka_client.topics import TopicCreationError, ensure_topics
from producer.delivery import ProducerConfig, RecordProducer
from producer.logs import configure_logging
from producer.metrics import ProducerMetrics, serve_metrics
from producer.pacing import Pace
from producer.progress import format_summary, report_progress
from producer.records import RecordBuilder, TopicLayout, topic_for_symbol
from producer.run import send_ticks
from producer.sources.live import DEFAULT_POLL_INTERVAL_S, LiveSourceUnavailableError, live_ticks
from producer.sources.replay import DEFAULT_REPLAY_SYMBOLS, REPLAY_FILES, load_replay_bars, replay_ticks, rotate
from producer.sources.synthetic import RandomWalk, synthetic_symbols
from producer.tick import Tick

log = structlog.get_logger(__name__)

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_USAGE = 2
# One replayed row every 5 seconds: slow enough to watch each tick arrive at a subscriber.
DEFAULT_REPLAY_INTERVAL_S = 5.0
DEFAULT_SYNTHETIC_RATE = 100.0
DEFAULT_LIVE_SYMBOLS = ("AAPL", "MSFT", "AMZN", "GOOG")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kafka-appsync-producer",
        description="Send stock ticks to Kafka (replayed, synthetic or live), or create the topics they go to. "
        "Connection settings come from KAFKA_* environment variables: KAFKA_BOOTSTRAP_SERVERS, KAFKA_AUTH "
        "(none, scram or iam), KAFKA_SCRAM_SECRET_ARN, KAFKA_TLS, KAFKA_AWS_REGION, KAFKA_CLIENT_ID.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log level (default INFO)")
    connection = shared.add_argument_group("connection")
    connection.add_argument("--bootstrap-servers", help="comma-separated host:port list; overrides KAFKA_BOOTSTRAP_SERVERS")
    source = shared.add_argument_group("source")
    source.add_argument(
        "--source", choices=["replay", "synthetic", "live"], default="replay", help="where ticks come from (default replay)"
    )
    source.add_argument(
        "--symbols",
        help=f"replay: comma-separated symbols from {', '.join(REPLAY_FILES)}, or 'all' (default {','.join(DEFAULT_REPLAY_SYMBOLS)}); "
        f"live: Yahoo Finance tickers (default {','.join(DEFAULT_LIVE_SYMBOLS)})",
    )
    source.add_argument("--symbol-count", type=_positive_int, default=10, help="synthetic: number of symbols, SYM000 upwards (default 10)")
    topics = shared.add_argument_group("topics")
    topics.add_argument("--topic", default="ticks", help="the keyed topic for all symbols (default ticks)")
    topics.add_argument("--topic-per-symbol", action="store_true", help="use one topic per symbol, named prefix + symbol")
    topics.add_argument(
        "--topic-prefix", default="ticks.", help="prefix of per-symbol topics (default 'ticks.'); characters Kafka rejects become '_'"
    )

    send = commands.add_parser("send", parents=[shared], help="send ticks and wait until the brokers acknowledge them")
    _add_send_arguments(send)
    send.set_defaults(run=run_send)

    create = commands.add_parser("create-topics", parents=[shared], help="create the tick and dead-letter topics if missing")
    create.add_argument("--partitions", type=_positive_int, default=6, help="partitions of each tick topic (default 6)")
    create.add_argument("--dead-letter-topic", default="ticks.dlq", help="dead-letter topic of the relay (default ticks.dlq)")
    create.add_argument("--dead-letter-partitions", type=_positive_int, default=3, help="partitions of the dead-letter topic (default 3)")
    create.add_argument(
        "--replication-factor", type=_positive_int, default=1, help="replicas per partition (default 1 for a local broker; use 3 on MSK)"
    )
    create.set_defaults(run=run_create_topics)
    return parser


def _add_send_arguments(send: argparse.ArgumentParser) -> None:
    pace = send.add_argument_group("pace").add_mutually_exclusive_group()
    pace.add_argument(
        "--rate",
        type=_positive_float,
        help=f"records per second (default: synthetic {DEFAULT_SYNTHETIC_RATE:g}; live sends bars as they come)",
    )
    pace.add_argument(
        "--interval",
        type=_non_negative_float,
        help=f"seconds between records, 0 for no wait (default: replay {DEFAULT_REPLAY_INTERVAL_S:g})",
    )

    bounds = send.add_argument_group("bounds")
    bounds.add_argument(
        "--max-records", type=_positive_int, help="stop after this many records (default: replay stops at the end of the data)"
    )
    bounds.add_argument("--duration", type=_positive_float, help="stop after this many seconds")
    bounds.add_argument("--start-row", type=_non_negative_int, default=0, help="replay: first row of the merged data to send (default 0)")
    bounds.add_argument("--seed", type=int, help="synthetic: random seed, for a reproducible walk")
    bounds.add_argument(
        "--poll-interval",
        type=_positive_float,
        default=DEFAULT_POLL_INTERVAL_S,
        help="live: seconds between Yahoo Finance polls (default 60)",
    )

    delivery = send.add_argument_group("delivery and feedback")
    delivery.add_argument(
        "--request-timeout-ms",
        type=_positive_int,
        default=30_000,
        help="ms before an unacknowledged record or a connection attempt fails (default 30000)",
    )
    delivery.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="print progress to stderr every second (default: when stderr is a terminal)",
    )
    delivery.add_argument("--json", action="store_true", help="print the closing summary as JSON on stdout")
    delivery.add_argument("--metrics-port", type=_non_negative_int, help="serve Prometheus metrics on this port at /metrics")
    delivery.add_argument(
        "--metrics-host", default="127.0.0.1", help="address for --metrics-port (default 127.0.0.1; 0.0.0.0 in a container)"
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        overrides = {"bootstrap_servers": args.bootstrap_servers} if args.bootstrap_servers else {}
        options = connection_options(KafkaSettings(**overrides))
    except ValidationError as error:
        print(describe_settings_error(error), file=sys.stderr)
        return EXIT_USAGE
    except CredentialsError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return asyncio.run(args.run(args, options))
    except (ValueError, LiveSourceUnavailableError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE


def _replay_symbols(args: argparse.Namespace) -> list[str]:
    if not args.symbols:
        return list(DEFAULT_REPLAY_SYMBOLS)
    if args.symbols.strip().lower() == "all":
        return list(REPLAY_FILES)
    return _split(args.symbols)


def _symbols(args: argparse.Namespace) -> list[str]:
    if args.source == "replay":
        return _replay_symbols(args)
    if args.source == "synthetic":
        return synthetic_symbols(args.symbol_count)
    return _split(args.symbols) if args.symbols else list(DEFAULT_LIVE_SYMBOLS)


def _pace(args: argparse.Namespace) -> Pace | None:
    """Return the pace, or None for the live source when neither --rate nor --interval is given."""
    if args.rate is not None:
        return Pace.from_rate(args.rate)
    if args.interval is not None:
        return Pace.from_interval(args.interval)
    if args.source == "replay":
        return Pace.from_interval(DEFAULT_REPLAY_INTERVAL_S)
    if args.source == "synthetic":
        return Pace.from_rate(DEFAULT_SYNTHETIC_RATE)
    return None


def _ticks(args: argparse.Namespace, pace: Pace | None, start: datetime) -> tuple[Iterable[Tick] | AsyncIterable[Tick], bool]:
    """Return the ticks to send, and whether they are finite and pure, so that they can be reported failed when no broker is reachable."""
    if args.source == "replay":
        bars = load_replay_bars(_replay_symbols(args))
        count = min(args.max_records or len(bars), len(bars))
        return replay_ticks(rotate(bars, args.start_row, count), start, pace), True

    if args.source == "synthetic":
        limit = args.max_records
        if args.duration is not None and pace.rate is not None:
            by_duration = math.ceil(args.duration * pace.rate)
            limit = by_duration if limit is None else min(limit, by_duration)
        walk = RandomWalk(synthetic_symbols(args.symbol_count), seed=args.seed)
        return walk.ticks(start, pace, limit=limit), limit is not None

    ticks = live_ticks(_symbols(args), poll_interval_s=args.poll_interval)
    if args.max_records is not None:
        ticks = _take(ticks, args.max_records)
    return ticks, False


async def _take(ticks: AsyncIterable[Tick], count: int) -> AsyncIterable[Tick]:
    yielded = 0
    async for tick in ticks:
        yield tick
        yielded += 1
        if yielded >= count:
            return


async def run_send(args: argparse.Namespace, options: dict) -> int:
    metrics = ProducerMetrics()
    if args.metrics_port is not None:
        serve_metrics(metrics, args.metrics_port, args.metrics_host)
        log.info("metrics_serving", host=args.metrics_host, port=args.metrics_port, path="/metrics")

    pace = _pace(args)
    paced = pace is not None
    target_rate = pace.rate if pace else None
    ticks, finite = _ticks(args, pace, datetime.now(timezone.utc))
    builder = RecordBuilder(TopicLayout(topic=args.topic, per_symbol=args.topic_per_symbol, prefix=args.topic_prefix))
    producer = RecordProducer(
        options, ProducerConfig(request_timeout_ms=args.request_timeout_ms, start_timeout_s=args.request_timeout_ms / 1000), metrics
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    if args.duration is not None:
        loop.call_later(args.duration, stop.set)

    show_progress = args.progress if args.progress is not None else sys.stderr.isatty()
    progress = asyncio.create_task(report_progress(producer.result, target_rate)) if show_progress else None
    log.info(
        "send_started",
        source=args.source,
        topic=args.topic,
        topic_per_symbol=args.topic_per_symbol,
        rate=target_rate,
        max_records=args.max_records,
    )
    try:
        result = await send_ticks(options, ticks if finite else _unbounded(ticks), builder, paced=paced, stop=stop, producer=producer)
    finally:
        if progress is not None:
            progress.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await progress
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signal_number)

    print(format_summary(result, target_rate), file=sys.stderr)
    if args.json:
        print(json.dumps(result.summary()))
    return EXIT_OK if result.ok else EXIT_FAILURES


async def _unbounded(ticks: Iterable[Tick] | AsyncIterable[Tick]) -> AsyncIterable[Tick]:
    # send_ticks does not enumerate an asynchronous iterable when no broker is reachable, so an endless source cannot hang it.
    if isinstance(ticks, AsyncIterable):
        async for tick in ticks:
            yield tick
    else:
        for tick in ticks:
            yield tick


async def run_create_topics(args: argparse.Namespace, options: dict) -> int:
    if args.topic_per_symbol:
        topics = {topic_for_symbol(args.topic_prefix, symbol): args.partitions for symbol in _symbols(args)}
    else:
        topics = {args.topic: args.partitions}
    topics[args.dead_letter_topic] = args.dead_letter_partitions
    try:
        created = await ensure_topics(options, topics, args.replication_factor)
    except TopicCreationError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURES
    for name, partitions in topics.items():
        state = "created" if name in created else "exists"
        print(f"{state} {name} (requested {partitions} partitions)")
    return EXIT_OK


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is invalid; use 1 or more")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is invalid; use 0 or more")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is invalid; use a number above 0")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is invalid; use 0 or more")
    return value
