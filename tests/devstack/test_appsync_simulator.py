"""The local AppSync endpoint (devstack/appsync/launcher.js) against AppSync's HTTP and real-time contract."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import aiohttp
import pytest
import websockets
from gql import Client, gql
from gql.transport.appsync_auth import AppSyncApiKeyAuthentication
from gql.transport.appsync_websockets import AppSyncWebsocketsTransport

REPO_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = REPO_ROOT / "devstack" / "appsync" / "launcher.js"
WAIT_S = 10.0

PUBLISH = "mutation Publish($name: String!, $data: AWSJSON!) { publish(name: $name, data: $data) { name data } }"
SUBSCRIBE = "subscription Subscribe($name: String!) { subscribe(name: $name) { name data } }"
SUBSCRIBE_FILTERED = "subscription SubscribeFiltered($filter: String!) { subscribeFiltered(filter: $filter) { name data } }"


def channel(prefix: str) -> str:
    """A channel name no other test publishes to, since tests may share one simulator."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def post_graphql(stack, body: dict | str, api_key: str | None = None) -> tuple[int, dict]:
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {"content-type": "application/json", "x-api-key": stack.api_key if api_key is None else api_key}
    async with aiohttp.ClientSession() as session:
        async with session.post(stack.graphql_url, data=data, headers=headers) as response:
            return response.status, await response.json(content_type=None)


async def publish(stack, name: str, data: dict) -> dict:
    status, body = await post_graphql(stack, {"query": PUBLISH, "variables": {"name": name, "data": json.dumps(data)}})
    assert status == 200, body
    assert "errors" not in body, body
    return body["data"]["publish"]


def realtime_url(stack, api_key: str) -> str:
    header = {"host": urlparse(stack.graphql_url).netloc, "x-api-key": api_key}
    encoded = base64.b64encode(json.dumps(header).encode()).decode()
    return f"{stack.realtime_url}?header={encoded}&payload=e30="


@contextlib.asynccontextmanager
async def realtime_connection(stack):
    """A raw WebSocket speaking AppSync's protocol, past connection_init and connection_ack."""
    async with websockets.connect(realtime_url(stack, stack.api_key), subprotocols=["graphql-ws"]) as connection:
        await connection.send(json.dumps({"type": "connection_init"}))
        await next_message(connection, "connection_ack")
        yield connection


async def next_message(connection, message_type: str) -> dict:
    """Return the next message of message_type, skipping keep-alives; fail on any other type."""
    async with asyncio.timeout(WAIT_S):
        while True:
            message = json.loads(await connection.recv())
            if message["type"] == "ka":
                continue
            assert message["type"] == message_type, message
            return message


async def send_start(connection, subscription_id: str, query: str, variables: dict, api_key: str) -> None:
    await connection.send(json.dumps({
        "id": subscription_id,
        "type": "start",
        "payload": {
            "data": json.dumps({"query": query, "variables": variables}),
            "extensions": {"authorization": {"host": "127.0.0.1", "x-api-key": api_key}},
        },
    }))


async def start_subscription(connection, stack, subscription_id: str, query: str, variables: dict) -> None:
    await send_start(connection, subscription_id, query, variables, stack.api_key)
    await next_message(connection, "start_ack")


async def received_names(connection, count: int) -> list[str]:
    """Names of the next `count` published channels, in the order they arrived."""
    names = []
    while len(names) < count:
        message = await next_message(connection, "data")
        names.append(next(iter(message["payload"]["data"].values()))["name"])
    return names


async def filter_error(stack, filter_text: str) -> dict:
    """Subscribe with filter_text; the server must reject it with an error message, whose first error is returned."""
    async with realtime_connection(stack) as connection:
        await send_start(connection, "1", SUBSCRIBE_FILTERED, {"filter": filter_text}, stack.api_key)
        message = await next_message(connection, "error")
    assert message["id"] == "1"
    return message["payload"]["errors"][0]


# ---------------------------------------------------------------------------
# Against the shared local stack


@pytest.mark.stack
async def test_publish_reaches_gql_subscriber(stack):
    name = channel("AAPL")
    transport = AppSyncWebsocketsTransport(
        url=stack.realtime_url,
        auth=AppSyncApiKeyAuthentication(host=urlparse(stack.graphql_url).netloc, api_key=stack.api_key),
    )
    received: asyncio.Queue = asyncio.Queue()

    async with Client(transport=transport) as session:
        async def subscribe() -> None:
            async for result in session.subscribe(gql(SUBSCRIBE), variable_values={"name": name}):
                await received.put(result["subscribe"])

        task = asyncio.create_task(subscribe())
        try:
            # gql reports no start_ack, so publish until the subscription is live.
            deadline = time.monotonic() + WAIT_S
            message = None
            while message is None and time.monotonic() < deadline:
                await publish(stack, name, {"price": 189.5})
                with contextlib.suppress(TimeoutError):
                    message = await asyncio.wait_for(received.get(), 0.5)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    assert message is not None, f"no message on {name} within {WAIT_S} s"
    assert message["name"] == name
    assert json.loads(message["data"]) == {"price": 189.5}


@pytest.mark.stack
async def test_ack_announces_timeout(stack):
    async with websockets.connect(realtime_url(stack, stack.api_key), subprotocols=["graphql-ws"]) as connection:
        await connection.send(json.dumps({"type": "connection_init"}))
        ack = await next_message(connection, "connection_ack")
    assert ack["payload"] == {"connectionTimeoutMs": 300000}


@pytest.mark.stack
async def test_subscriber_gets_only_its_channel(stack):
    aapl, msft = channel("AAPL"), channel("MSFT")
    async with realtime_connection(stack) as connection:
        await start_subscription(connection, stack, "1", SUBSCRIBE, {"name": aapl})
        # MSFT goes first: had it leaked, it would be the first data message.
        await publish(stack, msft, {"seq": 1})
        await publish(stack, aapl, {"seq": 2})
        names = await received_names(connection, 1)
    assert names == [aapl]


@pytest.mark.stack
async def test_filter_selects_its_channels(stack):
    aapl, msft, goog, amzn = (channel(prefix) for prefix in ("AAPL", "MSFT", "GOOG", "AMZN"))
    filter_text = json.dumps({"name": {"in": [aapl, msft]}})
    async with realtime_connection(stack) as connection:
        await start_subscription(connection, stack, "1", SUBSCRIBE_FILTERED, {"filter": filter_text})
        for name in (goog, aapl, amzn, msft):
            await publish(stack, name, {"seq": 1})
        names = await received_names(connection, 2)
    assert names == [aapl, msft]


@pytest.mark.stack
async def test_filter_group_form_selects(stack):
    aapl, msft = channel("AAPL"), channel("MSFT")
    filter_text = json.dumps({"filterGroup": [{"filters": [{"fieldName": "name", "operator": "eq", "value": msft}]}]})
    async with realtime_connection(stack) as connection:
        await start_subscription(connection, stack, "1", SUBSCRIBE_FILTERED, {"filter": filter_text})
        await publish(stack, aapl, {"seq": 1})
        await publish(stack, msft, {"seq": 2})
        names = await received_names(connection, 1)
    assert names == [msft]


@pytest.mark.stack
@pytest.mark.parametrize(
    "filter_value, expected",
    [
        ({"name": {"in": ["A", "B", "C", "D", "E", "F"]}}, "subscription exceeds maximum value limit 5 for operator `in`."),
        ({"or": [{"name": {"eq": str(index)}} for index in range(11)]}, "Filters combination exceed maximum limit 10 for subscription."),
        ({field: {"eq": 1} for field in ("a", "b", "c", "d", "e", "f")}, "Filters exceed maximum attributes limit 5 for subscription."),
        ({"name": {"like": "AAPL"}}, 'Invalid subscription filter: operator "like" on field "name" is not supported'),
    ],
    ids=["six-in-values", "eleven-groups", "six-fields", "unknown-operator"],
)
async def test_filter_over_limits_rejected(stack, filter_value, expected):
    error = await filter_error(stack, json.dumps(filter_value))
    assert error["message"].startswith(expected)
    assert error["errorType"] == "BadRequestException"


@pytest.mark.stack
async def test_filter_not_json_rejected(stack):
    error = await filter_error(stack, "{name: AAPL")
    assert error["message"].startswith("Invalid subscription filter null: expected a JSON object")


@pytest.mark.stack
async def test_http_wrong_key_rejected(stack):
    status, body = await post_graphql(stack, {"query": "query { getChannel { name } }"}, api_key="wrong-key")
    assert status == 401
    assert body == {"errors": [{"errorType": "UnauthorizedException", "message": "You are not authorized to make this call."}]}


@pytest.mark.stack
async def test_start_wrong_key_rejected(stack):
    async with realtime_connection(stack) as connection:
        await send_start(connection, "7", SUBSCRIBE, {"name": channel("AAPL")}, api_key="wrong-key")
        message = await next_message(connection, "error")
    assert message["id"] == "7"
    assert message["payload"]["errors"][0]["errorType"] == "UnauthorizedException"


@pytest.mark.stack
async def test_handshake_wrong_key_rejected(stack):
    with pytest.raises(websockets.InvalidStatusCode) as rejected:
        await websockets.connect(realtime_url(stack, "wrong-key"), subprotocols=["graphql-ws"])
    assert rejected.value.status_code == 401


@pytest.mark.stack
async def test_malformed_frame_survived(stack):
    async with realtime_connection(stack) as connection:
        await connection.send("{not json")
        error = await next_message(connection, "error")
    assert error["payload"]["errors"][0]["errorType"] == "UnsupportedOperation"
    name = channel("AAPL")
    assert (await publish(stack, name, {"seq": 1}))["name"] == name


@pytest.mark.stack
async def test_syntax_error_graphql_shaped(stack):
    status, body = await post_graphql(stack, {"query": "mutation { publish(name: "})
    assert status == 400
    assert body["errors"][0]["errorType"] == "MalformedHttpRequestException"
    assert body["errors"][0]["message"].startswith("Unable to parse GraphQL query. Syntax Error:")


@pytest.mark.stack
async def test_empty_body_graphql_shaped(stack):
    status, body = await post_graphql(stack, "")
    assert status == 400
    assert body == {"errors": [{"errorType": "MalformedHttpRequestException", "message": "Request body is empty."}]}


# ---------------------------------------------------------------------------
# A launcher process of the test's own, for start-up and shutdown


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(port: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        ["node", str(LAUNCHER), "--host", "127.0.0.1", "--port", str(port), "--schema-dir", str(REPO_ROOT / "schema"),
         "--api-key", "test-key", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


@contextlib.contextmanager
def own_launcher(*extra: str):
    """Yield (process, ready line) of a launcher on a free port; end it afterwards."""
    process = launch(0, *extra)
    try:
        ready = json.loads(process.stdout.readline())
        yield process, ready
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()
        process.stderr.close()


def test_ready_line_names_endpoints():
    with own_launcher() as (_, ready):
        port = urlparse(ready["graphql"]).port
    assert ready == {"ready": True, "graphql": f"http://127.0.0.1:{port}/graphql", "realtime": f"ws://127.0.0.1:{port}/graphql/realtime"}


def test_port_in_use_fails():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        process = launch(holder.getsockname()[1])
        _, stderr = process.communicate(timeout=WAIT_S)
    assert process.returncode == 1
    assert "is already in use" in stderr


@contextlib.asynccontextmanager
async def own_connection(ready: dict):
    """A WebSocket to an own launcher, past connection_init; yields the connection and the connection_ack."""
    header = base64.b64encode(json.dumps({"host": "local", "x-api-key": "test-key"}).encode()).decode()
    async with websockets.connect(f"{ready['realtime']}?header={header}&payload=e30=", subprotocols=["graphql-ws"]) as connection:
        await connection.send(json.dumps({"type": "connection_init"}))
        ack = json.loads(await asyncio.wait_for(connection.recv(), WAIT_S))
        yield connection, ack


async def test_keepalives_follow_option():
    with own_launcher("--keepalive-ms", "300") as (_, ready):
        async with own_connection(ready) as (connection, ack):
            # One ka right after the ack, then one every 300 ms.
            arrivals = []
            async with asyncio.timeout(WAIT_S):
                while len(arrivals) < 3:
                    message = json.loads(await connection.recv())
                    arrivals.append((message["type"], time.monotonic()))
    assert ack["type"] == "connection_ack"
    assert [kind for kind, _ in arrivals] == ["ka", "ka", "ka"]
    assert arrivals[2][1] - arrivals[1][1] >= 0.25


async def test_sigterm_with_client_exits():
    with own_launcher() as (process, ready):
        async with own_connection(ready):
            stopped_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            returncode = await asyncio.to_thread(process.wait, WAIT_S)
            elapsed_s = time.monotonic() - stopped_at
    assert returncode == 0
    assert elapsed_s < 5
