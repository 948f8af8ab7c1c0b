"""The live ticker page (web/) in headless Chromium, against the AppSync simulator.

The tests publish the relay's envelopes with HTTP publish mutations, so no
relay or Kafka is involved. The reconnect tests run a simulator of their own,
which they stop, restart and pause, so the shared one keeps serving others.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from playwright.async_api import Page, async_playwright, expect

from devstack.config import HOST, StackConfig
from devstack.processes import port_is_open, tail
from devstack.web import WebServer

pytestmark = [pytest.mark.stack, pytest.mark.asyncio(loop_scope="module")]

REPO_ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = REPO_ROOT / "devstack" / "appsync" / "launcher.js"
SCREENSHOT = REPO_ROOT / "build" / "screenshots" / "web-live.png"
# Debian's chromium package; Playwright never downloads a browser here.
CHROMIUM = Path("/usr/bin/chromium")
# Playwright adds --headless itself, and passes the fresh profile as --user-data-dir.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}
WAIT_MS = 15_000
# Reconnecting waits out a jittered backoff of up to 8 s after four failed attempts.
RECONNECT_WAIT_MS = 30_000
SIMULATOR_START_TIMEOUT_S = 30.0
FREE_PORT_LOW = 21000
FREE_PORT_HIGH = 32000
OWN_API_KEY = "da2-web-page-test-key"
# The page gives a connection up after three keep-alive intervals of silence.
OWN_KEEPALIVE_MS = 1000

SUBSCRIBE_FILTERED = "subscription SubscribeFiltered($filter: String!) { subscribeFiltered(filter: $filter) { name data } }"


def free_port() -> int:
    """A free loopback port below Linux's default ephemeral range (32768-60999).

    Outgoing connections take their source ports from that range, so one of
    them could grab a port from there between this check and the server's bind,
    or while the reconnect test has its simulator stopped.
    """
    generator = random.Random()
    for _ in range(100):
        port = generator.randint(FREE_PORT_LOW, FREE_PORT_HIGH)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((HOST, port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port between {FREE_PORT_LOW} and {FREE_PORT_HIGH} on {HOST} after 100 tries")


def unique_symbols(prefix: str, count: int) -> list[str]:
    """Channel names no other test publishes to, since tests share one simulator."""
    run = uuid.uuid4().hex[:6].upper()
    return [f"{prefix}{index}-{run}" for index in range(1, count + 1)]


def tick(symbol: str, seq: int, close: float = 100.0, offset: int | None = None,
         produced_ago_ms: int = 45, sent_ago_ms: int = 3, ts: str = "2024-05-01T13:30:00.000Z") -> tuple[str, dict]:
    """A channel name and the relay's data envelope for one tick, produced and sent the given times ago."""
    now_ms = int(time.time() * 1000)
    envelope = {
        "value": {"symbol": symbol, "ts": ts, "close": close, "seq": seq},
        "topic": "ticks",
        "partition": 0,
        "offset": seq if offset is None else offset,
        "key": symbol,
        "timestamp_ms": now_ms - produced_ago_ms - 2,
        "produced_at_ms": now_ms - produced_ago_ms,
        "sent_at_ms": now_ms - sent_ago_ms,
    }
    return symbol, envelope


async def publish(graphql_url: str, api_key: str, ticks: list[tuple[str, dict]]) -> None:
    """Publish the ticks in order, in one request of aliased publish mutations as the relay sends them."""
    definitions = ", ".join(f"$name{index}: String!, $data{index}: AWSJSON!" for index in range(len(ticks)))
    fields = " ".join(f"p{index}: publish(name: $name{index}, data: $data{index}) {{ name data }}" for index in range(len(ticks)))
    variables = {}
    for index, (name, envelope) in enumerate(ticks):
        variables[f"name{index}"] = name
        variables[f"data{index}"] = json.dumps(envelope)
    body = {"query": f"mutation Publish({definitions}) {{ {fields} }}", "variables": variables}
    async with aiohttp.ClientSession() as session:
        async with session.post(graphql_url, json=body, headers={"x-api-key": api_key}) as response:
            result = await response.json(content_type=None)
            status = response.status
    assert status == 200, result
    assert "errors" not in result, result


def card(page: Page, symbol: str):
    return page.locator(f'.card[data-symbol="{symbol}"]')


def card_field(page: Page, symbol: str, name: str):
    return card(page, symbol).locator(f'[data-field="{name}"]')


async def open_ticker(page: Page, url: str, symbols: list[str]) -> None:
    """Open the page on `symbols` and wait until every subscription is acknowledged."""
    await page.goto(f"{url}index.html?symbols={','.join(symbols)}")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)


def last_latency_ms(text: str) -> int:
    """Read the last latency from a card's text such as "5012 ms · p50 5012 ms"."""
    match = re.match(r"(\d+) ms", text)
    assert match is not None, f"no latency in milliseconds at the start of {text!r}"
    return int(match.group(1))


async def wait_for_updates(page: Page, symbol: str, count: int) -> None:
    await expect(card_field(page, symbol, "updates")).to_have_attribute("data-count", str(count), timeout=WAIT_MS)


class OwnSimulator:
    """An AppSync simulator process on a port of its own, for tests that stop and pause it."""

    def __init__(self, port: int, log_file: Path):
        self.port = port
        self.log_file = log_file
        self.process: subprocess.Popen | None = None

    @property
    def graphql_url(self) -> str:
        return f"http://{HOST}:{self.port}/graphql"

    async def start(self) -> None:
        node = shutil.which("node")
        assert node is not None, "node is not on PATH; install Node.js 20 or newer"
        with open(self.log_file, "ab") as log:
            self.process = subprocess.Popen(
                [
                    node, str(LAUNCHER),
                    "--host", HOST,
                    "--port", str(self.port),
                    "--schema-dir", str(REPO_ROOT / "schema"),
                    "--api-key", OWN_API_KEY,
                    "--keepalive-ms", str(OWN_KEEPALIVE_MS),
                ],
                cwd=LAUNCHER.parent, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + SIMULATOR_START_TIMEOUT_S
        while not port_is_open(HOST, self.port):
            assert self.process.poll() is None, f"the simulator exited with status {self.process.returncode}:\n{tail(self.log_file)}"
            assert time.monotonic() < deadline, f"the simulator did not listen on port {self.port} within {SIMULATOR_START_TIMEOUT_S} s:\n{tail(self.log_file)}"
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        """Stop it with SIGTERM, which closes every WebSocket with code 1001, as a redeploy would."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            await asyncio.to_thread(self.process.wait, 10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)

    def pause(self) -> None:
        """Freeze the process: its connections stay open but carry nothing, not even keep-alives."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)


# ---------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def web_server(stack, tmp_path_factory):
    """The page server for the shared stack's simulator, in its own state directory and on a free port."""
    config = dataclasses.replace(StackConfig.from_env(), state_dir=tmp_path_factory.mktemp("web-shared"), web_port=free_port())
    server = WebServer(config)
    server.start()
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def own_simulator(tmp_path_factory):
    simulator = OwnSimulator(free_port(), tmp_path_factory.mktemp("own-simulator") / "simulator.log")
    await simulator.start()
    yield simulator
    await simulator.stop()


@pytest.fixture(scope="module")
def own_web_server(own_simulator, tmp_path_factory):
    """The page server with a config.json that points at this module's own simulator."""
    config = dataclasses.replace(
        StackConfig.from_env(),
        state_dir=tmp_path_factory.mktemp("web-own"),
        web_port=free_port(),
        appsync_port=own_simulator.port,
        appsync_api_key=OWN_API_KEY,
    )
    server = WebServer(config)
    server.start()
    yield server
    server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser(tmp_path_factory):
    """Headless Chromium from Debian's package, with a fresh profile."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; install Debian's chromium package (bin/setup does) to run the web page tests")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
        )
        yield context
        await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser):
    """A new tab; the test errors if the page threw an uncaught exception."""
    tab = await browser.new_page()
    page_errors = []
    tab.on("pageerror", lambda error: page_errors.append(str(error)))
    yield tab
    await tab.close()
    assert page_errors == [], f"the page threw: {page_errors}"


# ---------------------------------------------------------------------------
# Against the shared simulator


async def test_two_symbols_only(page, web_server, stack):
    first, second, third = unique_symbols("TWO", 3)
    await open_ticker(page, web_server.url, [first, second])

    # The unselected symbol goes first, so it would have arrived before the last tick.
    await publish(stack.graphql_url, stack.api_key, [tick(third, 1), tick(first, 1), tick(second, 1), tick(first, 2)])
    await wait_for_updates(page, first, 2)
    await wait_for_updates(page, second, 1)

    card_symbols = await page.locator(".card").evaluate_all("cards => cards.map((card) => card.dataset.symbol)")
    ignored = await page.locator("#ignored-count").get_attribute("data-count")
    assert card_symbols == [first, second]
    assert ignored == "0"


async def test_price_and_change_shown(page, web_server, stack):
    (symbol,) = unique_symbols("PRC", 1)
    await open_ticker(page, web_server.url, [symbol])

    await publish(stack.graphql_url, stack.api_key, [tick(symbol, 1, close=100.0), tick(symbol, 2, close=101.5)])
    await wait_for_updates(page, symbol, 2)

    price = await card_field(page, symbol, "price").text_content()
    change = await card_field(page, symbol, "change").text_content()
    direction = await card_field(page, symbol, "change").get_attribute("data-direction")
    sparkline = await card_field(page, symbol, "spark-line").get_attribute("d")
    assert price == "101.50"
    assert change == "+1.50 (+1.50%)"
    assert direction == "up"
    assert sparkline.startswith("M")


async def test_latency_shown(page, web_server, stack):
    (symbol,) = unique_symbols("LAT", 1)
    await open_ticker(page, web_server.url, [symbol])

    await publish(stack.graphql_url, stack.api_key, [tick(symbol, 1, produced_ago_ms=5_000, sent_ago_ms=2_000)])
    await wait_for_updates(page, symbol, 1)

    produced = await card_field(page, symbol, "latency-produced").text_content()
    sent = await card_field(page, symbol, "latency-sent").text_content()
    # The envelope claims 5 s and 2 s; delivery on loopback adds well under a second.
    assert 5_000 <= last_latency_ms(produced) < 6_000
    assert 2_000 <= last_latency_ms(sent) < 3_000


async def test_gap_indicator(page, web_server, stack):
    (symbol,) = unique_symbols("GAP", 1)
    await open_ticker(page, web_server.url, [symbol])

    await publish(stack.graphql_url, stack.api_key, [tick(symbol, 1), tick(symbol, 2), tick(symbol, 4)])
    await wait_for_updates(page, symbol, 3)

    gaps = card_field(page, symbol, "gaps")
    assert await gaps.is_visible()
    assert await gaps.get_attribute("data-gaps") == "1"
    assert await gaps.get_attribute("data-missing") == "1"


async def test_late_tick_fills_gap(page, web_server, stack):
    (symbol,) = unique_symbols("LATE", 1)
    await open_ticker(page, web_server.url, [symbol])

    await publish(stack.graphql_url, stack.api_key, [tick(symbol, 1), tick(symbol, 3), tick(symbol, 2)])
    await wait_for_updates(page, symbol, 3)

    gaps = card_field(page, symbol, "gaps")
    assert await gaps.get_attribute("data-missing") == "0"
    assert await card_field(page, symbol, "late").get_attribute("data-count") == "1"


async def test_duplicate_counted(page, web_server, stack):
    (symbol,) = unique_symbols("DUP", 1)
    await open_ticker(page, web_server.url, [symbol])

    # The same record (offset 11) published twice, as after a relay restart before its commit.
    await publish(stack.graphql_url, stack.api_key, [tick(symbol, 1, offset=10), tick(symbol, 2, offset=11), tick(symbol, 2, offset=11), tick(symbol, 3, offset=12)])
    await wait_for_updates(page, symbol, 3)

    duplicates = card_field(page, symbol, "duplicates")
    await expect(duplicates).to_have_attribute("data-count", "1", timeout=WAIT_MS)
    assert await duplicates.is_visible()
    assert await card_field(page, symbol, "gaps").get_attribute("data-gaps") == "0"


async def test_symbols_over_five_share_subscription(page, web_server, stack):
    symbols = unique_symbols("MANY", 7)
    await open_ticker(page, web_server.url, symbols)

    await publish(stack.graphql_url, stack.api_key, [tick(symbol, 1) for symbol in symbols])
    for symbol in symbols:
        await wait_for_updates(page, symbol, 1)

    # Seven symbols need two "in" lists of at most 5, which fit in one filter.
    assert await page.locator("#subscription-count").get_attribute("data-count") == "1"


async def test_filter_over_limit_rejected(page, web_server):
    await page.goto(f"{web_server.url}index.html?symbols=")
    message = await page.evaluate(
        """async () => {
            const { validateSubscriptionFilter } = await import('./subscription-filter.js');
            try {
                validateSubscriptionFilter({ name: { in: ['A', 'B', 'C', 'D', 'E', 'F'] } });
                return null;
            } catch (error) {
                return error.message;
            }
        }"""
    )
    assert message is not None
    assert message.startswith("subscription exceeds maximum value limit 5 for operator `in`")


async def test_filter_batches_fifty_symbols(page, web_server):
    await page.goto(f"{web_server.url}index.html?symbols=")
    sizes = await page.evaluate(
        """async () => {
            const { channelFilterBatches } = await import('./subscription-filter.js');
            const symbols = Array.from({ length: 51 }, (_, index) => `S${index}`);
            return channelFilterBatches(symbols).map((batch) => batch.channels.length);
        }"""
    )
    assert sizes == [50, 1]


async def test_server_error_shown(page, web_server, stack):
    (symbol,) = unique_symbols("ERR", 1)
    await open_ticker(page, web_server.url, [symbol])

    # Send a filter the page would never build, past its own check, so the server rejects it.
    await page.evaluate(
        """(query) => window.tickerApp.client.subscribe(query, { filter: JSON.stringify({ name: { in: ['A', 'B', 'C', 'D', 'E', 'F'] } }) }, 'six symbols')""",
        SUBSCRIBE_FILTERED,
    )

    errors = page.locator("#error-list li")
    await expect(errors.first).to_contain_text("six symbols", timeout=WAIT_MS)
    assert "maximum value limit 5" in await errors.first.text_content()


async def test_long_symbol_rejected(page, web_server):
    await page.goto(f"{web_server.url}index.html?symbols=")
    await page.fill("#symbols-input", "X" * 300)
    await page.click("#apply-symbols")

    await expect(page.locator("#error-list li").first).to_contain_text("at most 256", timeout=WAIT_MS)
    assert await page.locator(".card").count() == 0


async def test_missing_config_shown(page, web_server):
    web_server.config_file.rename(web_server.config_file.with_suffix(".moved"))
    try:
        await page.goto(f"{web_server.url}index.html")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "error", timeout=WAIT_MS)
    finally:
        web_server.config_file.with_suffix(".moved").rename(web_server.config_file)
    assert "HTTP 404" in await page.locator("#error-list li").first.text_content()


async def test_rejected_key_shown(page, web_server):
    page_config = json.loads(web_server.config_file.read_text())
    web_server.config_file.write_text(json.dumps({**page_config, "apiKey": "da2-not-the-key"}))
    try:
        await page.goto(f"{web_server.url}index.html?symbols=AAPL")
        await expect(page.locator("#error-list li").first).to_contain_text("rejected the API key", timeout=WAIT_MS)
    finally:
        web_server.write_page_config()
    assert await page.locator("#connection").get_attribute("data-state") == "reconnecting"


async def test_live_screenshot(page, web_server, stack):
    # Real names read well in the picture; the test expects no one else to publish to them meanwhile.
    start_prices = {"AAPL": 189.5, "MSFT": 412.3, "IBM": 168.2, "GOOG": 141.8, "AMZN": 178.9, "^GSPC": 5187.7, "WTI": 78.4}
    symbols = list(start_prices)
    waves = 40
    await open_ticker(page, web_server.url, symbols)

    generator = random.Random(7)
    prices = dict(start_prices)
    for wave in range(1, waves + 1):
        ts = f"{date(2024, 3, 1) + timedelta(days=wave)}T00:00:00.000Z"
        ticks = []
        for symbol in symbols:
            prices[symbol] *= 1 + generator.gauss(0.0005, 0.004)
            # One lost tick shows the gap indicator.
            if symbol == "IBM" and wave == 25:
                continue
            ticks.append(tick(symbol, wave, close=round(prices[symbol], 2), produced_ago_ms=generator.randint(60, 240),
                              sent_ago_ms=generator.randint(2, 12), ts=ts))
        await publish(stack.graphql_url, stack.api_key, ticks)
    for symbol in symbols:
        await expect(card_field(page, symbol, "seq")).to_have_text(str(waves), timeout=WAIT_MS)

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 0


# ---------------------------------------------------------------------------
# Against this module's own simulator


async def test_reconnect_after_restart(page, own_web_server, own_simulator):
    (symbol,) = unique_symbols("RST", 1)
    await open_ticker(page, own_web_server.url, [symbol])
    await publish(own_simulator.graphql_url, OWN_API_KEY, [tick(symbol, 1)])
    await wait_for_updates(page, symbol, 1)
    connection = page.locator("#connection")

    await own_simulator.stop()
    await expect(connection).to_have_attribute("data-state", "reconnecting", timeout=WAIT_MS)
    await own_simulator.start()
    await expect(connection).to_have_attribute("data-state", "live", timeout=RECONNECT_WAIT_MS)

    await publish(own_simulator.graphql_url, OWN_API_KEY, [tick(symbol, 2)])
    await wait_for_updates(page, symbol, 2)
    assert await page.locator("#reconnects").get_attribute("data-count") == "1"
    assert await card_field(page, symbol, "gaps").get_attribute("data-gaps") == "0"


async def test_missed_keepalives_reconnect(page, own_web_server, own_simulator):
    (symbol,) = unique_symbols("KA", 1)
    await open_ticker(page, own_web_server.url, [symbol])
    # The short deadline applies once the page has measured the keep-alive interval.
    await expect(page.locator("#keepalive")).to_have_text(re.compile(r"^every \d"), timeout=WAIT_MS)
    connection = page.locator("#connection")

    own_simulator.pause()
    try:
        await expect(connection).to_have_attribute("data-state", "late", timeout=WAIT_MS)
        await expect(connection).to_have_attribute("data-state", "reconnecting", timeout=WAIT_MS)
    finally:
        own_simulator.resume()
    await expect(connection).to_have_attribute("data-state", "live", timeout=RECONNECT_WAIT_MS)

    await publish(own_simulator.graphql_url, OWN_API_KEY, [tick(symbol, 1)])
    await wait_for_updates(page, symbol, 1)
    assert await page.locator("#reconnects").get_attribute("data-count") == "1"
