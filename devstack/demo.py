"""The main job: the whole pipeline on the local stack, with real market data.

producer (replay) → Kafka → relay service → AppSync simulator → subscriber,
then a closing summary of what arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from devstack.config import HOST, REPO_ROOT
from devstack.processes import StackError
from devstack.prometheus import Prometheus
from devstack.stack import LocalStack
from kafka_client.settings import KafkaSettings
from kafka_client.security import connection_options
from kafka_client.topics import ensure_topics
from producer.sources.replay import load_replay_bars
from subscriber.client import Subscriber
from subscriber.tally import Tally

REPLAY_SYMBOLS = ["^GSPC", "^IXIC", "^VIX", "WTI", "AAPL", "AMZN", "GOOG", "IBM", "MSFT"]
DEFAULT_TOPIC = "ticks"
DEFAULT_DEAD_LETTER_TOPIC = "ticks.dlq"
READY_TIMEOUT_S = 60.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bin/demo",
        description="Run producer → Kafka → relay → AppSync simulator → subscriber on the local stack and summarize what arrived.",
    )
    parser.add_argument("--duration", type=float, default=30.0, help="seconds the producer sends (default 30)")
    parser.add_argument("--rate", type=float, default=200.0, help="records per second the producer sends (default 200)")
    parser.add_argument("--batch-max-records", type=int, default=50, help="records per mutation request; 1 turns batching off (default 50)")
    parser.add_argument("--ordering", choices=["partition", "key"], default="partition", help="ordering scope of the relay (default partition)")
    parser.add_argument("--partitions", type=int, default=6, help="partitions of the tick topic when it is created (default 6)")
    parser.add_argument("--ops-port", type=int, default=18080, help="relay's /metrics, /healthz and /readyz port on 127.0.0.1 (default 18080)")
    parser.add_argument("--drain-timeout", type=float, default=30.0, help="seconds to wait for the last messages after the producer stops (default 30)")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    stack = LocalStack()
    print("starting the local stack ...", flush=True)
    stack.start()
    # Point the stack's Prometheus at this run's relay, whatever --ops-port is.
    Prometheus(stack.config, relay_targets=[f"{HOST}:{args.ops_port}"]).start()
    endpoints = stack.endpoints
    await ensure_topics(connection_options(KafkaSettings(bootstrap_servers=endpoints.bootstrap_servers)),
                        {DEFAULT_TOPIC: args.partitions, DEFAULT_DEAD_LETTER_TOPIC: 3})

    run_started_ms = time.time() * 1000
    tally = Tally()
    first_arrival: list[float] = []

    def on_message(channel: str, data: dict, received_at_ms: float) -> None:
        # Records of an earlier run still uncommitted when it stopped are
        # relayed again now; count only this run's.
        if data.get("timestamp_ms", 0) < run_started_ms:
            return
        if not first_arrival:
            first_arrival.append(received_at_ms)
        tally.add(channel, data, received_at_ms)

    # Ctrl-C stops the producer and the relay (same process group); stop
    # waiting for the last messages then, and still print the summary.
    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupted.set)

    relay_log = stack.config.state_dir / "relay.log"
    relay = start_relay(args, endpoints, relay_log)
    try:
        wait_ready(args.ops_port, relay, relay_log)
        print(f"relay ready; metrics at http://{HOST}:{args.ops_port}/metrics", flush=True)
        async with Subscriber(endpoints.realtime_url, endpoints.graphql_url, endpoints.api_key, on_message) as subscriber:
            await subscriber.subscribe(REPLAY_SYMBOLS)
            produced = await run_producer(args, endpoints.bootstrap_servers)
            acknowledged = produced.get("acknowledged", 0)
            deadline = time.monotonic() + args.drain_timeout
            while tally.unique < acknowledged and time.monotonic() < deadline and not interrupted.is_set():
                await asyncio.sleep(0.1)
            last_arrival_ms = time.time() * 1000
    finally:
        stop_relay(relay)

    print_summary(args, produced, tally, first_arrival, last_arrival_ms)
    missing = acknowledged - tally.unique
    symbols = urllib.parse.quote(",".join(REPLAY_SYMBOLS), safe=",")
    print(f"\nlive ticker page: {endpoints.web_url}?symbols={symbols} (run bin/demo again to watch it update)")
    print(f"Prometheus: {endpoints.prometheus_url} (scrapes the relay at 127.0.0.1:{args.ops_port}; dashboards/README.md shows Grafana)")
    print(f"The local stack keeps running (endpoints in {stack.config.endpoints_file}); stop it with: bin/stack stop")
    if missing > 0:
        print(f"error: {missing} acknowledged records never reached the subscriber; see {stack.config.state_dir / 'relay.log'}",
              file=sys.stderr)
    return 0 if produced.get("failed", 0) == 0 and missing <= 0 else 1


def start_relay(args: argparse.Namespace, endpoints, log_file) -> subprocess.Popen:
    environment = dict(os.environ)
    environment.update(
        KAFKA_BOOTSTRAP_SERVERS=endpoints.bootstrap_servers,
        RELAY_TOPICS=DEFAULT_TOPIC,
        RELAY_GROUP_ID="kafka-appsync-relay-demo",
        RELAY_DEAD_LETTER_TOPIC=DEFAULT_DEAD_LETTER_TOPIC,
        RELAY_APPSYNC_URL=endpoints.graphql_url,
        RELAY_APPSYNC_API_KEY=endpoints.api_key,
        RELAY_BATCH_MAX_RECORDS=str(args.batch_max_records),
        RELAY_ORDERING=args.ordering,
        RELAY_OPS_HOST=HOST,
        RELAY_OPS_PORT=str(args.ops_port),
        RELAY_LOG_FORMAT="json",
    )
    print(f"starting the relay service (log: {log_file}) ...", flush=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "service"], cwd=REPO_ROOT, env=environment,
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL)


def wait_ready(port: int, relay: subprocess.Popen, log_file) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if relay.poll() is not None:
            raise StackError(f"the relay service exited with code {relay.returncode} during start-up; see {log_file}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/readyz", timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise StackError(f"the relay service was not ready after {READY_TIMEOUT_S:.0f} s; see {log_file}")


def stop_relay(relay: subprocess.Popen) -> None:
    if relay.poll() is None:
        relay.send_signal(signal.SIGTERM)
        try:
            relay.wait(timeout=40)
        except subprocess.TimeoutExpired:
            relay.kill()
            relay.wait()


def first_row_with_every_symbol() -> int:
    """Return the index of the first merged row on or after the date where every replay symbol has data.

    The series start years apart (WTI in the 1980s, the stocks in 2000), so a
    short run from row 0 would show one symbol only.
    """
    bars = load_replay_bars(REPLAY_SYMBOLS)
    first_dates = {}
    for bar in bars:
        first_dates.setdefault(bar.symbol, bar.date)
    common_start = max(first_dates.values())
    return next(index for index, bar in enumerate(bars) if bar.date >= common_start)


async def run_producer(args: argparse.Namespace, bootstrap_servers: str) -> dict:
    command = [
        sys.executable, "-m", "producer", "send", "--bootstrap-servers", bootstrap_servers,
        "--source", "replay", "--symbols", ",".join(REPLAY_SYMBOLS), "--topic", DEFAULT_TOPIC,
        "--rate", str(args.rate), "--duration", str(args.duration), "--progress", "--json",
        "--start-row", str(first_row_with_every_symbol()),
    ]
    print(f"producing real market data for {args.duration:.0f} s at {args.rate:.0f} records/s ...", flush=True)
    process = await asyncio.create_subprocess_exec(*command, cwd=REPO_ROOT, stdout=subprocess.PIPE)
    stdout, _ = await process.communicate()
    try:
        return json.loads(stdout.decode().strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        raise StackError(f"the producer exited with code {process.returncode} and printed no JSON summary") from None


def print_summary(args, produced: dict, tally: Tally, first_arrival: list[float], last_arrival_ms: float) -> None:
    summary = tally.summary()
    elapsed_s = (last_arrival_ms - first_arrival[0]) / 1000 if first_arrival else 0.0
    rows = [
        ("records sent (acknowledged by Kafka)", produced.get("acknowledged")),
        ("records the producer could not send", produced.get("failed")),
        ("records received by the subscriber", summary["received"]),
        ("missing (sent but never received)", produced.get("acknowledged", 0) - tally.unique),
        ("gaps (a later seq arrived, an earlier one did not)", summary["lost"]),
        ("out of order", summary["out_of_order"]),
        ("duplicates", summary["duplicates"]),
        ("latency p50, record timestamp → subscriber (ms)", summary["latency_p50_ms"]),
        ("latency p99, record timestamp → subscriber (ms)", summary["latency_p99_ms"]),
        ("end-to-end throughput (records/s)", round(summary["received"] / elapsed_s, 1) if elapsed_s else None),
        ("batch size / ordering", f"{args.batch_max_records} / {args.ordering}"),
    ]
    print("\nsummary")
    for label, value in rows:
        print(f"  {label:50} {value}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
