"""An HTTP proxy in front of the AppSync simulator that injects faults on demand.

The simulator cannot throttle, stall or vanish on request, so tests put
this proxy between the relay and the simulator and switch its mode.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

# Return a response to send instead of forwarding, or None to forward.
Rule = Callable[[dict], Awaitable[web.StreamResponse | None] | web.StreamResponse | None]


class FaultProxy:
    def __init__(self, upstream_url: str):
        self.upstream_url = upstream_url
        self.mode = "forward"  # forward | outage | stall
        self.stall_s = 0.0
        self.rule: Rule | None = None
        self.requests = 0
        self.forwarded = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def __aenter__(self) -> FaultProxy:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/graphql", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/graphql"
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._session.close()
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        raw = await request.read()
        if self.mode == "outage":
            # Drop the connection without a response, as a vanished endpoint does.
            request.transport.close()
            raise ConnectionResetError("outage")
        if self.mode == "stall":
            await asyncio.sleep(self.stall_s)
        if self.rule is not None:
            try:
                body = json.loads(raw)
            except ValueError:
                body = {}
            response = self.rule(body)
            if asyncio.iscoroutine(response):
                response = await response
            if response is not None:
                return response
        headers = {name: value for name, value in request.headers.items()
                   if name.lower() in ("x-api-key", "content-type", "authorization")}
        async with self._session.post(self.upstream_url, data=raw, headers=headers) as upstream:
            payload = await upstream.read()
            self.forwarded += 1
            return web.Response(body=payload, status=upstream.status, content_type="application/json")


def graphql_error(status: int, error_type: str, message: str, path: str | None = None) -> web.Response:
    error = {"errorType": error_type, "message": message}
    if path is not None:
        error["path"] = [path]
        return web.json_response({"data": {path: None}, "errors": [error]}, status=status)
    return web.json_response({"errors": [error]}, status=status)


def channels_of(body: dict) -> list[str]:
    """The channel names of a batched publish request, in alias order."""
    variables = body.get("variables") or {}
    return [variables[f"n{i}"] for i in range(len(variables) // 2) if f"n{i}" in variables]


def data_of(body: dict) -> list[dict]:
    variables = body.get("variables") or {}
    return [json.loads(variables[f"d{i}"]) for i in range(len(variables) // 2) if f"d{i}" in variables]
