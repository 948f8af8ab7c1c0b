"""AppSync throttling, failing, stalling and vanishing while records stream, and a wrong API key."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
import pytest

from helpers.fault_proxy import FaultProxy, graphql_error
from helpers.kafka import committed_positions, create_topics, end_and_committed_offsets, produce_ticks, symbols
from helpers.relay import free_port, relay_settings, running_relay, wait_for
from subscriber.client import Subscriber
from subscriber.tally import Tally

pytestmark = pytest.mark.stack

RECORDS = 10_000
QUEUE_MAX_RECORDS = 500
PARTITIONS = 6
# One fetch returns at most this many bytes per partition; a tick record
# with its batch overhead takes more than 60 bytes.
FETCH_MAX_PARTITION_BYTES = 64 * 1024
RECORDS_PER_FETCH_MAX = FETCH_MAX_PARTITION_BYTES // 60


def sample(metric) -> float:
    return sum(s.value for family in metric.collect() for s in family.samples)


@pytest.fixture(scope="module")
async def fault_run(stack):
    """Stream 10,000 records through 429 and 5xx bursts, a 10 s stall and a 30 s outage."""
    unique_name = f"endpoint-faults-{uuid.uuid4().hex[:8]}"
    topic = await create_topics(stack, unique_name, PARTITIONS)
    names = symbols(20)
    tally = Tally(keep_order=True)
    peak_queued = 0
    async with FaultProxy(stack.graphql_url) as proxy:
        settings = relay_settings(stack, topic, unique_name, appsync_url=proxy.url, http_timeout_s=3.0,
                                  retry_base_s=0.05, retry_max_s=2.0, queue_max_records=QUEUE_MAX_RECORDS,
                                  fetch_max_partition_bytes=FETCH_MAX_PARTITION_BYTES)
        async with Subscriber(stack.realtime_url, stack.graphql_url, stack.api_key, tally.add) as subscriber:
            await subscriber.subscribe(names)
            async with running_relay(stack, settings) as metrics:
                producing = asyncio.create_task(produce_ticks(stack.bootstrap_servers, topic, names, RECORDS))

                async def phase(seconds: float) -> None:
                    nonlocal peak_queued
                    for _ in range(int(seconds * 10)):
                        peak_queued = max(peak_queued, sample(metrics.queued_records))
                        await asyncio.sleep(0.1)

                await phase(1)
                proxy.rule = lambda body: graphql_error(429, "TooManyRequestsException", "rate exceeded")
                await phase(2)
                proxy.rule = lambda body: graphql_error(503, "ServiceUnavailableException", "try again")
                await phase(2)
                proxy.rule = None
                proxy.mode, proxy.stall_s = "stall", 10.0
                await phase(10)
                proxy.mode = "outage"
                await phase(30)
                proxy.mode = "forward"
                sent = await producing
                await wait_for(lambda: tally.unique >= RECORDS, 120, f"{RECORDS} distinct messages after recovery")
                retries = sample(metrics.retries)
    ends, committed = await end_and_committed_offsets(stack.bootstrap_servers, topic, unique_name)
    return {"tally": tally, "sent": sent, "peak_queued": peak_queued, "retries": retries, "ends": ends, "committed": committed}


async def test_faults_lose_nothing(fault_run):
    assert fault_run["tally"].lost == 0


async def test_faults_keep_symbol_order(fault_run):
    """Retries may repeat a batch, but each symbol's first arrivals stay in order."""
    first_arrivals = {name: list(dict.fromkeys(seqs)) for name, seqs in fault_run["tally"].order.items()}
    assert first_arrivals == fault_run["sent"]


async def test_faults_were_retried(fault_run):
    assert fault_run["retries"] > 0


async def test_faults_bounded_memory(fault_run):
    # Each partition pauses at QUEUE_MAX_RECORDS; one fetch may land on top.
    assert fault_run["peak_queued"] <= PARTITIONS * (QUEUE_MAX_RECORDS + RECORDS_PER_FETCH_MAX)


async def test_faults_committed_to_end(fault_run):
    assert committed_positions(fault_run["committed"]) == fault_run["ends"]


async def test_wrong_api_key(stack, create_topic, unique_name):
    topic = await create_topic(unique_name, partitions=2)
    await produce_ticks(stack.bootstrap_servers, topic, symbols(4), 100)
    async with FaultProxy(stack.graphql_url) as proxy:
        ops_port = free_port()
        settings = relay_settings(stack, topic, unique_name, appsync_url=proxy.url, appsync_api_key="da2-wrong-key",
                                  auth_retry_s=30.0, ops_port=ops_port)
        async with running_relay(stack, settings) as metrics:
            await wait_for(lambda: sample(metrics.assigned_partitions) == 2, 30, "the partition assignment")
            await wait_for(lambda: proxy.requests >= 2, 30, "the first requests")
            requests_before = proxy.requests
            await asyncio.sleep(5)  # a window in which a busy loop would send hundreds of requests
            requests_in_window = proxy.requests - requests_before
            readiness = await _readiness(ops_port)
    _, committed = await end_and_committed_offsets(stack.bootstrap_servers, topic, unique_name)
    assert requests_in_window <= 2
    assert readiness == 503
    assert set(committed.values()) == {None}


async def _readiness(port: int) -> int:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
            return response.status
