"""Ports, paths and the API key of the local stack, read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEVSTACK_DIR = REPO_ROOT / "devstack"

# Loopback only: nothing in the local stack is meant to be reachable from
# other hosts.
HOST = "127.0.0.1"


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    try:
        port = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a port number; set it to an integer between 1024 and 65535") from None
    if not 1024 <= port <= 65535:
        raise SystemExit(f"{name}={port} is out of range; set it to an integer between 1024 and 65535")
    return port


@dataclass(frozen=True)
class StackConfig:
    state_dir: Path
    kafka_port: int
    kafka_controller_port: int
    appsync_port: int
    appsync_api_key: str
    appsync_keepalive_ms: int
    web_port: int
    prometheus_port: int

    @classmethod
    def from_env(cls) -> StackConfig:
        state_dir = Path(os.environ.get("DEVSTACK_HOME", REPO_ROOT / ".devstack")).resolve()
        return cls(
            state_dir=state_dir,
            kafka_port=_port("DEVSTACK_KAFKA_PORT", 19092),
            kafka_controller_port=_port("DEVSTACK_KAFKA_CONTROLLER_PORT", 19093),
            appsync_port=_port("DEVSTACK_APPSYNC_PORT", 20002),
            # A fixed, obviously local key: the simulator is reachable from
            # loopback only, so this is no secret.
            appsync_api_key=os.environ.get("DEVSTACK_APPSYNC_API_KEY", "da2-local-devstack-key"),
            appsync_keepalive_ms=_port("DEVSTACK_APPSYNC_KEEPALIVE_MS", 60000),
            web_port=_port("DEVSTACK_WEB_PORT", 20080),
            prometheus_port=_port("DEVSTACK_PROMETHEUS_PORT", 19090),
        )

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.kafka_port}"

    @property
    def graphql_url(self) -> str:
        return f"http://{HOST}:{self.appsync_port}/graphql"

    @property
    def realtime_url(self) -> str:
        return f"ws://{HOST}:{self.appsync_port}/graphql/realtime"

    @property
    def endpoints_file(self) -> Path:
        return self.state_dir / "endpoints.json"
