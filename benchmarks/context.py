"""Shared state of every benchmark: the plan, the broker, the endpoint process and the folder for logs."""

from __future__ import annotations

import contextlib
import logging
import secrets
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import structlog

from benchmarks.kafka_ops import delete_groups, delete_topics
from benchmarks.plan import Plan
from benchmarks.processes import EndpointProcess
from devstack.config import REPO_ROOT
from devstack.stack import LocalStack

# Any string works: the minimal endpoint does not check the key.
ENDPOINT_API_KEY = "bench-key"


@dataclass
class BenchContext:
    plan: Plan
    run_id: str
    bootstrap_servers: str
    appsync_url: str
    appsync_realtime_url: str
    appsync_api_key: str
    log_dir: Path
    endpoint: EndpointProcess
    service_dir: Path = REPO_ROOT
    topics_created: list[str] = field(default_factory=list)
    groups_created: list[str] = field(default_factory=list)

    def topic(self, purpose: str) -> str:
        """Return this run's topic name for `purpose`; every name starts with bench-<run id>- so cleanup finds them."""
        return f"bench-{self.run_id}-{purpose}"

    @property
    def dead_letter_topic(self) -> str:
        return self.topic("dlq")

    def log(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"


@contextlib.contextmanager
def bench_context(plan: Plan, service_dir: Path = REPO_ROOT, keep_topics: bool = False, progress=None) -> Iterator[BenchContext]:
    """Start the local stack (a no-op when it runs) and the endpoint; on exit stop the endpoint and delete this run's topics and groups.

    Raises devstack.processes.StackError when the local stack cannot start.
    """
    quiet_library_logs()
    stack = LocalStack()
    if progress:
        progress("starting the local stack (no-op when it runs)")
    stack.start()
    endpoints = stack.endpoints
    run_id = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(2)
    log_dir = stack.config.state_dir / "benchmarks" / run_id
    log_dir.mkdir(parents=True, exist_ok=True)
    endpoint = EndpointProcess(log_dir / "endpoint.log").start()
    context = BenchContext(plan=plan, run_id=run_id, bootstrap_servers=endpoints.bootstrap_servers, appsync_url=endpoints.graphql_url,
                           appsync_realtime_url=endpoints.realtime_url, appsync_api_key=endpoints.api_key, log_dir=log_dir,
                           endpoint=endpoint, service_dir=service_dir.resolve())
    try:
        yield context
    finally:
        endpoint.stop()
        if not keep_topics:
            delete_topics(context.bootstrap_servers, sorted(set(context.topics_created)))
            # Every relay run uses a fresh group; left behind, they pile up in the broker's __consumer_offsets.
            failures = delete_groups(context.bootstrap_servers, sorted(set(context.groups_created)))
            if failures and progress:
                progress(f"could not delete consumer groups: {', '.join(failures)}")


def quiet_library_logs() -> None:
    # kafka_client logs each topic it creates at INFO, which the benchmark's progress lines already report.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
                        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)


def progress(message: str) -> None:
    """Print a timestamped progress line to stderr."""
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
