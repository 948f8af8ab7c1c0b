"""Subscribe to channels over AppSync's real-time WebSocket endpoint with gql."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

from gql import Client, gql
from gql.transport.appsync_auth import AppSyncApiKeyAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport


SUBSCRIBE = gql("subscription Subscribe($name: String!) { subscribe(name: $name) { name data } }")
SUBSCRIBE_FILTERED = gql("subscription SubscribeFiltered($filter: String!) { subscribeFiltered(filter: $filter) { name data } }")

OnMessage = Callable[[str, dict, float], Awaitable[None] | None]


class _AckCountingTransport(AppSyncWebsocketsTransport):
    """gql drops AppSync's start_ack; count them so callers know when subscriptions are live."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.acknowledged = 0
        self.ack_received = asyncio.Event()

    def _parse_answer(self, answer: str):
        parsed = super()._parse_answer(answer)
        if parsed[0] == "start_ack":
            self.acknowledged += 1
            self.ack_received.set()
        return parsed


def transport_for(realtime_url: str, graphql_url: str, api_key: str) -> _AckCountingTransport:
    # The API key's host header names the GraphQL endpoint, as AppSync expects.
    auth = AppSyncApiKeyAuthentication(host=urlparse(graphql_url).netloc, api_key=api_key)
    return _AckCountingTransport(url=realtime_url, auth=auth, connect_timeout=10, keep_alive_timeout=None)


class Subscriber:
    """Hold one WebSocket connection with one subscription per channel."""

    def __init__(self, realtime_url: str, graphql_url: str, api_key: str, on_message: OnMessage,
                 ack_timeout_s: float = 15.0):
        self._transport = transport_for(realtime_url, graphql_url, api_key)
        self._client = Client(transport=self._transport, fetch_schema_from_transport=False)
        self._on_message = on_message
        self._ack_timeout_s = ack_timeout_s
        self._session = None
        self._tasks: list[asyncio.Task] = []

    async def __aenter__(self) -> Subscriber:
        self._session = await self._client.connect_async(reconnecting=False)
        return self

    async def __aexit__(self, *exc_info) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.close_async()

    async def subscribe(self, channels: list[str]) -> None:
        """Subscribe to each channel and return once AppSync acknowledged every subscription."""
        for channel in channels:
            self._tasks.append(asyncio.create_task(self._consume(SUBSCRIBE, {"name": channel}), name=f"subscription-{channel}"))
        await self._wait_acknowledged()

    async def subscribe_filtered(self, filter_json: str) -> None:
        """Subscribe with an enhanced filter; raise the server's error when it rejects the filter."""
        self._tasks.append(asyncio.create_task(self._consume(SUBSCRIBE_FILTERED, {"filter": filter_json}), name="subscription-filtered"))
        await self._wait_acknowledged()

    async def _wait_acknowledged(self) -> None:
        expected = len(self._tasks)
        deadline = time.monotonic() + self._ack_timeout_s
        while self._transport.acknowledged < expected:
            failed = [task for task in self._tasks if task.done()]
            if failed:
                failed[0].result()  # raises the server's error for that subscription
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"AppSync acknowledged {self._transport.acknowledged} of {expected} subscriptions within {self._ack_timeout_s} s")
            self._transport.ack_received.clear()
            try:
                await asyncio.wait_for(self._transport.ack_received.wait(), min(remaining, 0.2))
            except asyncio.TimeoutError:
                pass

    async def _consume(self, document, variables: dict) -> None:
        async for message in self._session.subscribe(document, variable_values=variables):
            received_at_ms = time.time() * 1000
            for payload in message.values():
                if not isinstance(payload, dict):
                    continue
                data = payload.get("data")
                data = json.loads(data) if isinstance(data, str) else data
                result = self._on_message(payload.get("name"), data, received_at_ms)
                if asyncio.iscoroutine(result):
                    await result
