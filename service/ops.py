"""The operations port: /metrics, /healthz and /readyz."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.consumer import Relay
from service.metrics import RelayMetrics
from service.mutation_client import MutationClient


class OpsServer:
    def __init__(self, relay: Relay, client: MutationClient, metrics: RelayMetrics, *,
                 host: str, port: int, stall_timeout_s: float):
        self._relay = relay
        self._client = client
        self._metrics = metrics
        self._host = host
        self._port = port
        self._stall_timeout_s = stall_timeout_s
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._get_metrics)
        app.router.add_get("/healthz", self._get_healthz)
        app.router.add_get("/readyz", self._get_readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _get_metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self._metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _get_healthz(self, request: web.Request) -> web.Response:
        # Any response shows the event loop runs. A stalled partition means it runs without progress.
        stalled = await self._relay.stalled_partitions(self._stall_timeout_s)
        if stalled:
            return web.json_response({"status": "stalled", "stalled_partitions": stalled}, status=503)
        return web.json_response({"status": "ok"})

    async def _get_readyz(self, request: web.Request) -> web.Response:
        problems = []
        if not self._relay.joined_group:
            problems.append("not yet a member of the consumer group")
        if not self._client.reachable:
            error = self._client.last_error
            problems.append(f"AppSync not reachable: {error}" if error else "AppSync not reached yet")
        if problems:
            return web.json_response({"status": "not ready", "problems": problems}, status=503)
        return web.json_response({"status": "ready"})
