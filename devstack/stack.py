"""Start, stop and describe the whole local stack."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from devstack.appsync import AppSyncSimulator
from devstack.config import StackConfig
from devstack.kafka import KafkaBroker
from devstack.prometheus import Prometheus
from devstack.web import WebServer


@dataclass(frozen=True)
class Endpoints:
    bootstrap_servers: str
    graphql_url: str
    realtime_url: str
    api_key: str
    web_url: str
    prometheus_url: str

    def as_dict(self) -> dict[str, str]:
        return {
            "bootstrap_servers": self.bootstrap_servers,
            "graphql_url": self.graphql_url,
            "realtime_url": self.realtime_url,
            "api_key": self.api_key,
            "web_url": self.web_url,
            "prometheus_url": self.prometheus_url,
        }


class LocalStack:
    def __init__(self, config: StackConfig | None = None):
        self.config = config or StackConfig.from_env()
        self.kafka = KafkaBroker(self.config)
        self.appsync = AppSyncSimulator(self.config)
        self.web = WebServer(self.config)
        self.prometheus = Prometheus(self.config)

    @property
    def endpoints(self) -> Endpoints:
        return Endpoints(
            bootstrap_servers=self.config.bootstrap_servers,
            graphql_url=self.config.graphql_url,
            realtime_url=self.config.realtime_url,
            api_key=self.config.appsync_api_key,
            web_url=self.web.url,
            prometheus_url=self.prometheus.url,
        )

    def parts(self) -> list[tuple[str, object]]:
        """Return the parts in start order. Stop goes in reverse order."""
        return [("kafka", self.kafka), ("appsync", self.appsync), ("web", self.web), ("prometheus", self.prometheus)]

    def start(self) -> dict[str, float]:
        """Start every part that is not running and wait until each is ready.

        Return the seconds each part took; a part that was running already
        takes 0.
        """
        self.config.state_dir.mkdir(parents=True, exist_ok=True)
        timings = {}
        for name, part in self.parts():
            started_at = time.monotonic()
            part.start()
            timings[name] = time.monotonic() - started_at
        self.config.endpoints_file.write_text(json.dumps(self.endpoints.as_dict(), indent=2) + "\n")
        return timings

    def stop(self) -> list[str]:
        """Stop every part; return the names of those that were running."""
        stopped = []
        # The broker last: the others hold no data, while it flushes its log on SIGTERM.
        for name, part in reversed(self.parts()):
            if part.stop():
                stopped.append(name)
        self.config.endpoints_file.unlink(missing_ok=True)
        return stopped

    def status(self) -> dict[str, bool]:
        return {name: part.is_running() for name, part in self.parts()}
