"""Start, stop and describe the whole local stack."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from devstack.appsync import AppSyncSimulator
from devstack.config import StackConfig
from devstack.kafka import KafkaBroker


@dataclass(frozen=True)
class Endpoints:
    bootstrap_servers: str
    graphql_url: str
    realtime_url: str
    api_key: str

    def as_dict(self) -> dict[str, str]:
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "graphql_url": self.graphql_url,
            "realtime_url": self.realtime_url,
            "api_key": self.api_key,
        }


class LocalStack:
    def __init__(self, config: StackConfig | None = None):
        self.config = config or StackConfig.from_env()
        self.kafka = KafkaBroker(self.config)
        self.appsync = AppSyncSimulator(self.config)

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(
            bootstrap_servers=self.config.bootstrap_servers,
            graphql_url=self.config.graphql_url,
            realtime_url=self.config.realtime_url,
            api_key=self.config.appsync_api_key,
        )

    def start(self) -> dict[str, float]:
        """Start every part that is not running and wait until each is ready.

        Return the seconds each part took; a part that was running already
        takes 0.
        """
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        timings = {}
        for name, part in (("kafka", self.kafka), ("appsync", self.appsync)):
            started_at = time.monotonic()
            part.start()
            timings[name] = time.monotonic() - started_at
        self.config.endpoints_file.write_text(json.dumps(self.endpoints.as_dict(), indent=2) + "\n")
        return timings

    def stop(self) -> list[str]:
        """Stop every part; return the names of those that were running."""
        stopped = []
        # The simulator first: it holds no data, while the broker flushes its log on SIGTERM.
        for name, part in (("appsync", self.appsync), ("kafka", self.kafka)):
            if part.stop():
                stopped.append(name)
        self.config.endpoints_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> dict[str, bool]:
        return {"kafka": self.kafka.is_running(), "appsync": self.appsync.is_running()}
