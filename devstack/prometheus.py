"""Prometheus on loopback, scraping the relay with the configuration and alert rules in dashboards/."""

from __future__ import annotations

import os
import shutil
import signal
import urllib.error
import urllib.request
from collections.abc import Sequence

import yaml

from devstack.config import HOST, REPO_ROOT, StackConfig
from devstack.processes import StackError, port_is_open, running_pid, start_detached, stop_process, wait_until

DASHBOARDS_DIR = REPO_ROOT / "dashboards"
SCRAPE_CONFIG = DASHBOARDS_DIR / "prometheus.yml"
RELAY_JOB = "kafka-appsync-relay"
# A counter's change reaches Prometheus within about two scrape intervals,
# which keeps the tests that wait for one short.
DEFAULT_SCRAPE_INTERVAL_S = 1.0
START_TIMEOUT_S = 30.0
RELOAD_TIMEOUT_S = 10.0
_HTTP_TIMEOUT_S = 2.0


class Prometheus:
    """A Prometheus server that scrapes the relay's /metrics and evaluates dashboards/alert-rules.yml.

    The configuration is dashboards/prometheus.yml with the scrape interval
    and, when relay_targets is given, the relay targets replaced. It is
    written to the state directory on each start.
    """

    def __init__(self, config: StackConfig, relay_targets: Sequence[str] | None = None,
                 scrape_interval_s: float = DEFAULT_SCRAPE_INTERVAL_S):
        if relay_targets is not None and not relay_targets:
            raise ValueError("relay_targets is empty; pass host:port of each relay's operations port, or None for "
                             f"the targets in {SCRAPE_CONFIG}")
        if scrape_interval_s <= 0:
            raise ValueError(f"scrape_interval_s={scrape_interval_s} must be positive")
        self.config = config
        self.relay_targets = list(relay_targets) if relay_targets is not None else None
        self.scrape_interval_s = scrape_interval_s
        self.home = config.state_dir / "prometheus"
        self.data_dir = self.home / "data"
        self.config_file = self.home / "prometheus.yml"
        self.log_file = self.home / "prometheus.log"
        self.pid_file = self.home / "prometheus.pid"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.config.prometheus_port}"

    def render_config(self) -> str:
        """Return dashboards/prometheus.yml with this instance's targets, interval and absolute rule paths."""
        document = yaml.safe_load(SCRAPE_CONFIG.read_text())
        interval = _duration(self.scrape_interval_s)
        document["global"].update(scrape_interval=interval, scrape_timeout=interval, evaluation_interval=interval)
        # Prometheus resolves rule files relative to the configuration file,
        # and the rendered copy lives in the state directory.
        document["rule_files"] = [str(DASHBOARDS_DIR / path) for path in document.get("rule_files", [])]
        jobs = [job for job in document["scrape_configs"] if job["job_name"] == RELAY_JOB]
        if len(jobs) != 1:
            raise StackError(f"{SCRAPE_CONFIG} must have exactly one scrape job named {RELAY_JOB!r}, found {len(jobs)}")
        if self.relay_targets is not None:
            jobs[0]["static_configs"] = [{"targets": self.relay_targets}]
        return yaml.safe_dump(document, sort_keys=False)

    def write_config(self) -> bool:
        """Write the rendered configuration and return True when it changed."""
        text = self.render_config()
        if self.config_file.exists() and self.config_file.read_text() == text:
            return False
        self.home.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(text)
        return True

    def start(self) -> bool:
        """Start Prometheus unless it runs already. Return True when this call started it.

        A running server whose configuration differs is reloaded with the new one.
        """
        port = self.config.prometheus_port
        pid = running_pid(self.pid_file)
        if pid is not None and port_is_open(HOST, port):
            if self.write_config():
                self._reload(pid)
            return False
        if port_is_open(HOST, port):
            raise StackError(f"port {port} on {HOST} is in use by another process; stop it or set DEVSTACK_PROMETHEUS_PORT to a free port")
        binary = _require_prometheus()
        self.write_config()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        pid = start_detached(
            [
                binary,
                f"--config.file={self.config_file}",
                f"--storage.tsdb.path={self.data_dir}",
                # A local run needs hours of history at most.
                "--storage.tsdb.retention.time=1d",
                f"--web.listen-address={HOST}:{port}",
            ],
            log_file=self.log_file, pid_file=self.pid_file, cwd=self.home,
        )
        wait_until(self._is_ready, START_TIMEOUT_S, "Prometheus", self.log_file, pid)
        return True

    def stop(self) -> bool:
        return stop_process(self.pid_file, timeout_s=10.0)

    def is_running(self) -> bool:
        return running_pid(self.pid_file) is not None

    def _is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=_HTTP_TIMEOUT_S) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _reload(self, pid: int) -> None:
        """Make the running server read its configuration file again, and wait until it did.

        A rejected configuration leaves the success time unchanged, so the wait
        times out with the end of the log, which names the error.
        """
        before = self._last_reload_s()
        os.kill(pid, signal.SIGHUP)
        wait_until(lambda: self._last_reload_s() > before, RELOAD_TIMEOUT_S,
                   "the Prometheus configuration reload", self.log_file, pid)

    def _last_reload_s(self) -> float:
        """Return when Prometheus last loaded its configuration successfully (Unix time), or 0 while it is unreachable."""
        try:
            with urllib.request.urlopen(f"{self.url}/metrics", timeout=_HTTP_TIMEOUT_S) as response:
                text = response.read().decode()
        except (urllib.error.URLError, OSError):
            return 0.0
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name == "prometheus_config_last_reload_success_timestamp_seconds":
                return float(value)
        return 0.0


def _require_prometheus() -> str:
    path = shutil.which("prometheus")
    if path is None:
        raise StackError(
            "prometheus was not found on PATH; install it with `apt-get install prometheus` "
            "(Debian or Ubuntu, which bin/setup does when run as root) or put a Prometheus 2 binary on PATH"
        )
    return path


def _duration(seconds: float) -> str:
    """Format seconds as a Prometheus duration such as 1s or 500ms."""
    milliseconds = round(seconds * 1000)
    if milliseconds % 1000 == 0:
        return f"{milliseconds // 1000}s"
    return f"{milliseconds}ms"
