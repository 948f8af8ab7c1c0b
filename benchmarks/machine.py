"""The machine and software a benchmark ran on, read from /proc and the installed packages."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from importlib import metadata

from devstack.config import StackConfig

_PACKAGES = ("aiokafka", "aiohttp", "orjson", "uvloop", "prometheus-client", "requests")


def describe_machine() -> dict[str, str]:
    return {
        "CPUs (nproc)": str(len(os.sched_getaffinity(0))),
        "CPU model": _cpu_model(),
        "memory": f"{_meminfo_kib('MemTotal') / 1024 / 1024:.1f} GiB",
        "kernel": f"{platform.system()} {platform.release()}",
        "load average at start (1, 5, 15 min)": ", ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def describe_versions() -> dict[str, str]:
    versions = {"Python": platform.python_version()}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    versions["Kafka broker"] = _kafka_version()
    versions["Node.js (AppSync simulator)"] = _node_version()
    return versions


def _cpu_model() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _meminfo_kib(field: str) -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise ValueError(f"/proc/meminfo has no {field} line")


def _kafka_version() -> str:
    # The local stack runs the broker from the jars in its state directory; the server jar's name carries the version.
    libs = StackConfig.from_env().state_dir / "kafka" / "libs"
    for jar in sorted(libs.glob("kafka_2.*-*.jar")) if libs.is_dir() else []:
        match = re.match(r"kafka_[\d.]+-(.+)\.jar$", jar.name)
        if match:
            return match.group(1)
    return "unknown (no broker jar in the local stack's state directory)"


def _node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "not installed"
    result = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or "unknown"
