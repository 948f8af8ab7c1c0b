"""The AppSync simulator, started by the Node launcher in devstack/appsync."""

from __future__ import annotations

import hashlib
import json
import subprocess

from devstack import toolchain
from devstack.config import DEVSTACK_DIR, HOST, REPO_ROOT, StackConfig
from devstack.processes import StackError, port_is_open, running_pid, start_detached, stop_process, wait_until

APP_DIR = DEVSTACK_DIR / "appsync"
START_TIMEOUT_S = 60.0


class AppSyncSimulator:
    def __init__(self, config: StackConfig):
        self.config = config
        self.home = config.state_dir / "appsync"
        self.log_file = self.home / "simulator.log"
        self.pid_file = self.home / "simulator.pid"

    def install(self) -> None:
        """Run npm ci once per package-lock.json content."""
        lock = APP_DIR / "package-lock.json"
        if not lock.exists():
            raise StackError(f"{lock} is missing; the simulator's dependencies are pinned there")
        self.home.mkdir(parents=True, exist_ok=True)
        stamp = self.home / ".lock-sha256"
        digest = hashlib.sha256(lock.read_bytes()).hexdigest()
        if stamp.exists() and stamp.read_text() == digest and (APP_DIR / "node_modules").is_dir():
            return
        toolchain.require("node", min_major=20)
        npm = toolchain.require("npm")
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=APP_DIR, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise StackError(f"npm ci in {APP_DIR} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        stamp.write_text(digest)

    def start(self) -> bool:
        """Start the simulator unless it runs already. Return True when this call started it."""
        port = self.config.appsync_port
        if running_pid(self.pid_file) is not None and port_is_open(HOST, port):
            return False
        if port_is_open(HOST, port):
            raise StackError(f"port {port} on {HOST} is in use by another process; stop it or set DEVSTACK_APPSYNC_PORT to a free port")
        self.install()
        node = toolchain.require("node", min_major=20)
        pid = start_detached(
            [
                node, str(APP_DIR / "launcher.js"),
                "--host", HOST,
                "--port", str(port),
                "--schema-dir", str(REPO_ROOT / "schema"),
                "--api-key", self.config.appsync_api_key,
                "--keepalive-ms", str(self.config.appsync_keepalive_ms),
            ],
            log_file=self.log_file, pid_file=self.pid_file, cwd=APP_DIR,
        )
        try:
            wait_until(self._is_ready, START_TIMEOUT_S, "the AppSync simulator", self.log_file, pid)
        except StackError:
            stop_process(self.pid_file)
            raise
        return True

    def _is_ready(self) -> bool:
        for line in self.log_file.read_text(errors="replace").splitlines():
            if line.startswith("{") and '"ready"' in line:
                try:
                    return bool(json.loads(line).get("ready")) and port_is_open(HOST, self.config.appsync_port)
                except json.JSONDecodeError:
                    continue
        return False

    def stop(self) -> bool:
        return stop_process(self.pid_file, timeout_s=10.0)

    def is_running(self) -> bool:
        return running_pid(self.pid_file) is not None
