"""Background processes of the local stack, tracked by pid files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


class StackError(RuntimeError):
    """A part of the local stack could not be set up, started or stopped."""


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # kill(0) succeeds for a zombie too, so count a zombie as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def running_pid(pid_file: Path) -> int | None:
    pid = read_pid(pid_file)
    if pid is not None and is_alive(pid):
        return pid
    return None


def port_is_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def start_detached(command: list[str], log_file: Path, pid_file: Path, cwd: Path) -> int:
    """Start a process in its own session so that stop can end its whole group."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    # Keep one previous log, so readiness checks read only this run's lines.
    if log_file.exists():
        log_file.replace(log_file.with_suffix(log_file.suffix + ".previous"))
    with open(log_file, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pid_file.write_text(str(process.pid))
    return process.pid


def stop_process(pid_file: Path, timeout_s: float = 20.0) -> bool:
    """Send SIGTERM to the process group, then SIGKILL after timeout_s. Return True if one was running."""
    pid = running_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and is_alive(pid):
        time.sleep(0.1)
    if is_alive(pid):
        _signal_group(pid, signal.SIGKILL)
        while is_alive(pid):
            time.sleep(0.05)
    pid_file.unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def wait_until(check, timeout_s: float, what: str, log_file: Path, pid: int | None = None) -> None:
    """Poll check() until it returns true; fail naming what did not start and where its log is."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        if pid is not None and not is_alive(pid):
            raise StackError(f"{what} exited during start-up; see its log at {log_file}:\n{tail(log_file)}")
        time.sleep(0.2)
    raise StackError(f"{what} was not ready after {timeout_s:.0f} s; see its log at {log_file}:\n{tail(log_file)}")


def tail(log_file: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log written)"
