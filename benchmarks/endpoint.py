"""A minimal GraphQL endpoint that acknowledges every `publish` alias: the stand-in for AppSync in throughput runs.

Run it as its own process, so it does not share the relay's CPU:

    python -m benchmarks.endpoint --port 20110

It parses each request body as JSON, finds the `publish` fields of the
mutation (aliased `pN: publish(name: $nN, data: $dN)` as the relay sends, or
one unaliased `publish` as the original design sends) and returns
{"data": {"p0": {"name": ..., "data": ...}, ...}}. For each `data` that is
the relay's envelope it records the latency from the record timestamp and
from the relay's send time to the acknowledgement, and counts distinct
(topic, partition, offset) so duplicates do not count twice.

A hand-written HTTP/1.1 parser on an asyncio protocol (uvloop when
installed) keeps the cost per request far below an aiohttp web server's, so
the endpoint stays off the critical path. It understands exactly what the
relay (aiohttp), `requests` and urllib send: requests with Content-Length,
kept alive unless the client asks to close; no chunked bodies.

Control routes for the benchmark driver, all on the same port:
  GET  /_bench/stats              counters and the monotonic clock of this process
  GET  /_bench/latency?windows=N  latency percentiles, overall and per N equal time windows
  POST /_bench/reset?record=1     clear the counters; record=1 keeps per-record latencies
  POST /_bench/stall              hold every GraphQL request without responding
  POST /_bench/resume             respond to the held requests and stop holding new ones
  POST /_bench/delay?ms=N         respond to each GraphQL request N ms after it arrived, a stand-in for a network round trip
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import time
from array import array
from urllib.parse import parse_qs, urlsplit

import orjson

from benchmarks.stats import latency_summary

HOST = "127.0.0.1"
_HEADER_END = b"\r\n\r\n"
# Larger than the relay's largest request (500 records of the 240 KB AppSync limit is far more than any tick batch).
_MAX_BODY_BYTES = 64 * 1024 * 1024
_PUBLISH_FIELD = re.compile(r"(?:(\w+)\s*:\s*)?publish\s*\(\s*name\s*:\s*\$(\w+)\s*,\s*data\s*:\s*\$(\w+)\s*\)")
_REASONS = {200: b"OK", 400: b"Bad Request", 404: b"Not Found", 413: b"Payload Too Large"}


class Counters:
    """Counts and latencies of the acknowledgements since the last reset; times are time.monotonic() of this host."""

    def __init__(self, record_latency: bool = False) -> None:
        self.record_latency = record_latency
        self.requests = 0
        self.acknowledged = 0
        self.first_request_at: float | None = None
        self.last_ack_at: float | None = None
        self.seen: set[tuple[str, int, int]] = set()
        self.ack_at = array("d")
        self.record_to_ack_ms = array("d")
        self.sent_to_ack_ms = array("d")

    def snapshot(self) -> dict:
        return {
            "now": time.monotonic(),
            "requests": self.requests,
            "acknowledged": self.acknowledged,
            "unique": len(self.seen),
            "first_request_at": self.first_request_at,
            "last_ack_at": self.last_ack_at,
            "recorded": len(self.ack_at),
        }

    def latency(self, windows: int) -> dict:
        """Return latency summaries over all recorded records and over `windows` equal spans of acknowledgement time."""
        result = {
            "record_to_ack": latency_summary(self.record_to_ack_ms),
            "sent_to_ack": latency_summary(self.sent_to_ack_ms),
            "windows": [],
        }
        if windows < 1 or not self.ack_at:
            return result
        start, end = self.ack_at[0], self.ack_at[-1]
        width = (end - start) / windows or 1.0
        groups: list[list[float]] = [[] for _ in range(windows)]
        for at, latency_ms in zip(self.ack_at, self.record_to_ack_ms):
            groups[min(windows - 1, int((at - start) / width))].append(latency_ms)
        result["windows"] = [latency_summary(group) for group in groups]
        return result


class Endpoint:
    """State shared by all connections: counters, the stall switch and the held requests."""

    def __init__(self) -> None:
        self.counters = Counters()
        self.stalled = False
        self.delay_s = 0.0
        self.held_requests: list[tuple[GraphQLProtocol, bytes, bool]] = []
        self._documents: dict[str, list[tuple[str, str, str]]] = {}

    def publish_fields(self, query: str) -> list[tuple[str, str, str]]:
        """Return (response key, name variable, data variable) per publish field; cached, since documents repeat."""
        fields = self._documents.get(query)
        if fields is None:
            fields = [(alias or "publish", name, data) for alias, name, data in _PUBLISH_FIELD.findall(query)]
            if len(self._documents) < 4096:
                self._documents[query] = fields
        return fields

    def answer_graphql(self, body: bytes) -> tuple[int, bytes]:
        try:
            request = orjson.loads(body)
            query = request["query"]
            variables = request.get("variables") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            return 400, orjson.dumps({"errors": [{"message": "the body is not a GraphQL request in JSON"}]})
        counters = self.counters
        now = time.monotonic()
        counters.requests += 1
        if counters.first_request_at is None:
            counters.first_request_at = now
        fields = self.publish_fields(query)
        if not fields:
            # The relay's readiness probe, `query Probe { __typename }`.
            return 200, b'{"data":{"__typename":"Query"}}'
        data_out = {}
        now_ms = time.time() * 1000
        for key, name_variable, data_variable in fields:
            name = variables.get(name_variable)
            data = variables.get(data_variable)
            data_out[key] = {"name": name, "data": data}
            self._count(data, now, now_ms)
        counters.acknowledged += len(fields)
        counters.last_ack_at = now
        return 200, orjson.dumps({"data": data_out})

    def _count(self, data: object, now: float, now_ms: float) -> None:
        if not isinstance(data, str):
            return
        try:
            envelope = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(envelope, dict) or "offset" not in envelope:
            return
        counters = self.counters
        counters.seen.add((envelope.get("topic"), envelope.get("partition"), envelope.get("offset")))
        if counters.record_latency:
            timestamp_ms = envelope.get("timestamp_ms")
            sent_at_ms = envelope.get("sent_at_ms")
            if isinstance(timestamp_ms, (int, float)):
                counters.ack_at.append(now)
                counters.record_to_ack_ms.append(now_ms - timestamp_ms)
                if isinstance(sent_at_ms, (int, float)):
                    counters.sent_to_ack_ms.append(now_ms - sent_at_ms)

    def answer_control(self, method: str, target: str) -> tuple[int, bytes]:
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        if parts.path == "/_bench/stats" and method == "GET":
            snapshot = self.counters.snapshot()
            snapshot["stalled"] = self.stalled
            snapshot["held"] = len(self.held_requests)
            return 200, orjson.dumps(snapshot)
        if parts.path == "/_bench/latency" and method == "GET":
            windows = int(query.get("windows", ["0"])[0])
            return 200, orjson.dumps(self.counters.latency(windows))
        if parts.path == "/_bench/reset" and method == "POST":
            self.counters = Counters(record_latency=query.get("record", ["0"])[0] == "1")
            return 200, b'{"reset":true}'
        if parts.path == "/_bench/delay" and method == "POST":
            self.delay_s = float(query.get("ms", ["0"])[0]) / 1000
            return 200, orjson.dumps({"delay_ms": self.delay_s * 1000})
        if parts.path == "/_bench/stall" and method == "POST":
            self.stalled = True
            return 200, b'{"stalled":true}'
        if parts.path == "/_bench/resume" and method == "POST":
            self.stalled = False
            held, self.held_requests = self.held_requests, []
            answered = 0
            for protocol, body, keep_alive in held:
                # A client that timed out has closed its connection, and a response now would count an acknowledgement no client received.
                if not protocol.closed:
                    protocol.respond(*self.answer_graphql(body), keep_alive=keep_alive)
                    answered += 1
            return 200, orjson.dumps({"resumed": True, "held": len(held), "answered": answered})
        return 404, orjson.dumps({"errors": [{"message": f"no route for {method} {parts.path}"}]})


class GraphQLProtocol(asyncio.Protocol):
    """One client connection: parse requests from the byte stream and respond to them in order."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.closed = False
        self.waiting = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        # A held request blocks the connection, because HTTP/1.1 responds in request order.
        while not self.waiting and not self.closed:
            request = self._next_request()
            if request is None:
                return
            self._dispatch(*request)

    def _next_request(self) -> tuple[str, str, bytes, bool] | None:
        end = self.buffer.find(_HEADER_END)
        if end < 0:
            return None

        head = bytes(self.buffer[:end]).decode("latin-1")
        lines = head.split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            self._fail(400, f"invalid request line {lines[0][:100]!r}")
            return None

        length = 0
        keep_alive = version != "HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection":
                keep_alive = value.strip().lower() != "close"
            elif name == "transfer-encoding":
                self._fail(400, "chunked request bodies are not supported; send Content-Length")
                return None
        if length > _MAX_BODY_BYTES:
            self._fail(413, f"request body of {length} bytes is over the {_MAX_BODY_BYTES}-byte limit")
            return None

        body_start = end + len(_HEADER_END)
        if len(self.buffer) < body_start + length:
            return None
        body = bytes(self.buffer[body_start:body_start + length])
        del self.buffer[:body_start + length]
        return method, target, body, keep_alive

    def _dispatch(self, method: str, target: str, body: bytes, keep_alive: bool) -> None:
        endpoint = self.endpoint
        if target.startswith("/_bench/"):
            self.respond(*endpoint.answer_control(method, target), keep_alive=keep_alive)
        elif method == "POST" and endpoint.stalled:
            self.waiting = True
            endpoint.held_requests.append((self, body, keep_alive))
        elif method == "POST" and endpoint.delay_s > 0:
            self.waiting = True
            asyncio.get_running_loop().call_later(endpoint.delay_s, self._answer_delayed, body, keep_alive)
        elif method == "POST":
            self.respond(*endpoint.answer_graphql(body), keep_alive=keep_alive)
        else:
            self.respond(404, b'{"errors":[{"message":"POST GraphQL requests to any path but /_bench/"}]}', keep_alive=keep_alive)

    def _answer_delayed(self, body: bytes, keep_alive: bool) -> None:
        if not self.closed:
            self.respond(*self.endpoint.answer_graphql(body), keep_alive=keep_alive)

    def respond(self, status: int, body: bytes, *, keep_alive: bool) -> None:
        if self.closed:
            return
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, b'Error').decode()}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        ).encode("latin-1")
        self.transport.write(head + body)
        if not keep_alive:
            self.transport.close()
            self.closed = True
            return
        if self.waiting:
            self.waiting = False
            if self.buffer:
                self.data_received(b"")

    def _fail(self, status: int, message: str) -> None:
        self.respond(status, orjson.dumps({"errors": [{"message": message}]}), keep_alive=False)


async def serve(port: int) -> None:
    endpoint = Endpoint()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: GraphQLProtocol(endpoint), HOST, port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"endpoint listening on http://{HOST}:{port}/graphql", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.endpoint", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.port))
    else:
        uvloop.run(serve(args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
