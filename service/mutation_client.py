"""Send batched `publish` mutations to AppSync over one shared HTTP session."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import structlog

from service.appsync_auth import RequestSigner
from service.errors import DeliveryError, RecordError, TransportError
from service.metrics import RelayMetrics
from service.mutation import publish_document, publish_variables, read_response

log = structlog.get_logger(__name__)

try:
    import orjson

    def _dumps(payload: dict) -> bytes:
        return orjson.dumps(payload)

    def _loads(body: bytes):
        return orjson.loads(body)

except ImportError:  # the `fast` extra is optional

    def _dumps(payload: dict) -> bytes:
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()

    def _loads(body: bytes):
        return json.loads(body)


class MutationClient:
    """One long-lived aiohttp session shared by every partition worker."""

    def __init__(self, url: str, auth: RequestSigner, metrics: RelayMetrics, *,
                 connections: int = 32, timeout_s: float = 10.0, session: aiohttp.ClientSession | None = None):
        self.url = url
        self._auth = auth
        self._metrics = metrics
        self._session = session
        self._owns_session = session is None
        self._connections = connections
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(timeout_s, 5.0))
        # Readiness: the outcome of the last request, or of the start-up probe.
        self.last_error: DeliveryError | None = None
        self.reachable = False

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._connections, keepalive_timeout=60, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()

    async def publish(self, channels: list[str], data: list[str]) -> list[RecordError | None]:
        """Publish one batch; return one outcome per message, or raise DeliveryError to retry it."""
        body = _dumps({"query": publish_document(len(channels)), "variables": publish_variables(channels, data)})
        self._metrics.batch_size.observe(len(channels))
        self._metrics.request_bytes.inc(len(body))
        status, response = await self._post(body)
        try:
            outcomes = read_response(status, response, len(channels))
        except DeliveryError as error:
            self._record_failure(error)
            raise
        except RecordError as error:
            # AppSync rejected the whole document (MutationRejectedError), so
            # the request counts as failed although AppSync is reachable.
            self._metrics.requests.labels(outcome=error.reason).inc()
            raise
        self.last_error = None
        self.reachable = True
        self._metrics.requests.labels(outcome="ok").inc()
        return outcomes

    async def probe(self) -> bool:
        """Send a query that publishes nothing, to learn whether AppSync is reachable and the credentials work."""
        body = _dumps({"query": "query Probe { __typename }"})
        try:
            status, response = await self._post(body)
            read_response(status, response, 0)
        except DeliveryError as error:
            self._record_failure(error)
            return False
        except RecordError:
            pass  # AppSync responded, so it is reachable.
        self.last_error = None
        self.reachable = True
        return True

    async def _post(self, body: bytes) -> tuple[int, object]:
        headers = {"content-type": "application/json"}
        headers.update(await self._auth.headers(self.url, body))
        started = time.perf_counter()
        self._metrics.in_flight_requests.inc()
        try:
            async with self._session.post(self.url, data=body, headers=headers) as response:
                raw = await response.read()
                status = response.status
        except asyncio.TimeoutError as error:
            raise self._record_failure(TransportError(f"request to {self.url} timed out")) from error
        except aiohttp.ClientError as error:
            raise self._record_failure(TransportError(f"request to {self.url} failed: {error!r}")) from error
        finally:
            self._metrics.in_flight_requests.dec()
            self._metrics.mutation_latency.observe(time.perf_counter() - started)
        try:
            return status, _loads(raw) if raw else None
        except ValueError:
            return status, raw[:300].decode("utf-8", "replace")

    def _record_failure(self, error: DeliveryError) -> DeliveryError:
        self.last_error = error
        self.reachable = False
        self._metrics.requests.labels(outcome=error.reason).inc()
        return error
