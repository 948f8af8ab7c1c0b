"""The processes a benchmark starts: the minimal endpoint and relay service instances, each on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from devstack.config import HOST, REPO_ROOT

_READY_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 40.0


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def http_json(url: str, method: str = "GET", timeout_s: float = 5.0) -> dict:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read())


def stop_process(process: subprocess.Popen, timeout_s: float = _STOP_TIMEOUT_S) -> None:
    """Send SIGTERM to a process this module started, and SIGKILL if it has not exited within timeout_s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class EndpointProcess:
    """The minimal GraphQL endpoint (benchmarks.endpoint) in its own process."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/graphql"
        self._control = f"http://{HOST}:{self.port}/_bench"
        self._log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> EndpointProcess:
        with open(self._log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.endpoint", "--port", str(self.port)],
                                            cwd=REPO_ROOT, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the endpoint exited with code {self.process.returncode}; see {self._log_path}")
            try:
                self.stats()
                return self
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        raise RuntimeError(f"the endpoint did not respond on port {self.port} within 20 s; see {self._log_path}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout_s=10)

    def stats(self) -> dict:
        return http_json(f"{self._control}/stats")

    def latency(self, windows: int = 0) -> dict:
        return http_json(f"{self._control}/latency?windows={windows}", timeout_s=30)

    def reset(self, record_latency: bool = False) -> None:
        http_json(f"{self._control}/reset?record={int(record_latency)}", method="POST")

    def set_delay(self, delay_ms: float) -> None:
        http_json(f"{self._control}/delay?ms={delay_ms:g}", method="POST")

    def stall(self) -> None:
        http_json(f"{self._control}/stall", method="POST")

    def resume(self) -> dict:
        return http_json(f"{self._control}/resume", method="POST", timeout_s=30)

    def wait_unique(self, target: int, timeout_s: float, interval_s: float = 0.1) -> dict:
        """Poll until `target` distinct records were acknowledged or timeout_s passed; return the last stats."""
        deadline = time.monotonic() + timeout_s
        stats = self.stats()
        while stats["unique"] < target and time.monotonic() < deadline:
            time.sleep(interval_s)
            stats = self.stats()
        return stats


class RelayProcess:
    """One `python -m service` process with its own operations port on 127.0.0.1."""

    def __init__(self, *, bootstrap_servers: str, topic: str, group_id: str, appsync_url: str, api_key: str,
                 log_path: Path, dead_letter_topic: str, service_dir: Path = REPO_ROOT,
                 **relay_settings: str | int | float):
        self.ops_port = free_port()
        # `python -m service` imports the service package from its working directory first,
        # so another folder containing a service/ package benchmarks that version instead.
        self.service_dir = service_dir
        self.group_id = group_id
        self.log_path = log_path
        self._environment = dict(os.environ)
        self._environment.update(
            KAFKA_BOOTSTRAP_SERVERS=bootstrap_servers,
            RELAY_TOPICS=topic,
            RELAY_GROUP_ID=group_id,
            RELAY_DEAD_LETTER_TOPIC=dead_letter_topic,
            RELAY_APPSYNC_URL=appsync_url,
            RELAY_APPSYNC_API_KEY=api_key,
            RELAY_OPS_HOST=HOST,
            RELAY_OPS_PORT=str(self.ops_port),
            RELAY_LOG_FORMAT="json",
        )
        for name, value in relay_settings.items():
            self._environment[f"RELAY_{name.upper()}"] = str(value)
        self.process: subprocess.Popen | None = None
        self.started_at: float | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def start(self) -> RelayProcess:
        with open(self.log_path, "ab") as log:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen([sys.executable, "-m", "service"], cwd=self.service_dir, env=self._environment,
                                            stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def wait_ready(self, timeout_s: float = _READY_TIMEOUT_S) -> None:
        """Wait until /readyz returns 200: the relay joined its group and reached the GraphQL endpoint."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the relay exited with code {self.process.returncode} during start-up; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.ops_port}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the relay was not ready within {timeout_s:.0f} s; see {self.log_path}")

    def metrics(self) -> dict[str, list]:
        """Scrape /metrics; return each sample name with its (labels, value) pairs."""
        with urllib.request.urlopen(f"http://{HOST}:{self.ops_port}/metrics", timeout=5) as response:
            text = response.read().decode()
        samples: dict[str, list] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((sample.labels, sample.value))
        return samples

    def logged_settings(self) -> dict:
        """Return the settings the relay logged at start (its "settings loaded" line), or {} before that line."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return {}
        for line in lines:
            if '"settings loaded"' not in line:
                continue
            try:
                return json.loads(line).get("relay", {})
            except json.JSONDecodeError:
                continue
        return {}

    def assigned_partitions(self) -> int:
        try:
            values = self.metrics().get("relay_assigned_partitions", [])
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0
        return int(values[0][1]) if values else 0


def histogram_buckets(samples: dict[str, list], name: str) -> list[tuple[float, float]]:
    """Return the (upper bound, cumulative count) buckets of a histogram, summed over its label sets."""
    totals: dict[float, float] = {}
    for labels, value in samples.get(f"{name}_bucket", []):
        bound = float(labels["le"])
        totals[bound] = totals.get(bound, 0.0) + value
    return sorted(totals.items())


def wait_all_assigned(relays: list[RelayProcess], partitions: int, timeout_s: float = _READY_TIMEOUT_S) -> float:
    """Wait until every partition is assigned to one of the relays and each relay has at least one; return time.monotonic() then."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for relay in relays:
            if relay.process.poll() is not None:
                raise RuntimeError(f"a relay exited with code {relay.process.returncode} during start-up; see {relay.log_path}")
        counts = [relay.assigned_partitions() for relay in relays]
        if sum(counts) == partitions and min(counts) > 0:
            return time.monotonic()
        time.sleep(0.05)
    raise RuntimeError(f"the relays did not share {partitions} partitions within {timeout_s:.0f} s (last counts {counts})")
