"""The dashboard, the alert rules and the relay's metrics, checked on a real Prometheus.

Two relays run in-process on the local stack while Prometheus scrapes them
every second. The healthy one publishes a few thousand ticks and
dead-letters a few poison records. The other has a wrong AppSync API key, so
AppSync rejects its requests with 401 and retry and error series exist too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import re
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from devstack.config import StackConfig
from devstack.processes import StackError
from devstack.prometheus import DASHBOARDS_DIR, Prometheus
from helpers.kafka import produce_ticks, send_raw, symbols
from helpers.relay import free_port, relay_settings, running_relay, wait_for
from service.metrics import LATENCY_BUCKETS_S
from service.settings import RelaySettings

DASHBOARD = DASHBOARDS_DIR / "kafka-appsync-relay.json"
SCRAPE_CONFIG = DASHBOARDS_DIR / "prometheus.yml"
ALERT_RULES = DASHBOARDS_DIR / "alert-rules.yml"
ALERT_RULE_TESTS = DASHBOARDS_DIR / "alert-rules.test.yml"

# Grafana replaces $__rate_interval with at least four scrape intervals, which
# comes to one minute at the AWS collector's 15 s scrape interval.
RATE_INTERVAL = "1m"
TICKS = 3_000
POISON_RECORDS = [
    (b"SYM000", b"{not json"),
    (b"SYM001", b"\xff\xfe not UTF-8"),
    (b"SYM002", None),  # a tombstone
]
# A series can lag the relay by a scrape interval plus the relay's 2 s lag loop.
SERIES_TIMEOUT_S = 15.0
PUBLISH_TIMEOUT_S = 120.0
METRIC_NAME = re.compile(r"\b(?:relay|process|python)_[a-z0-9_]+\b")

# What each alert compares against its threshold. An alert expression returns
# nothing while the relay is healthy, so the tests check that these parts,
# the left-hand sides of its comparisons, return series.
ALERT_LEFT_HAND_SIDES = {
    "RelayDown": ['up{job="kafka-appsync-relay"}'],
    "RelayLagGrowing": ["relay_consumer_lag_records", "deriv(relay_consumer_lag_records[10m])"],
    "RelayNoProgress": ["relay_consumer_lag_records", "changes(relay_committed_offset[5m])"],
    "RelayDeadLetterRate": [
        "sum by (topic) (rate(relay_records_dead_lettered_total[5m])) "
        "/ sum by (topic) (rate(relay_records_consumed_total[5m]))",
    ],
    "RelayMutationErrors": [
        'sum by (job) (rate(relay_mutation_requests_total{outcome!="ok"}[5m])) '
        "/ sum by (job) (rate(relay_mutation_requests_total[5m]))",
    ],
    "RelayUnauthorized": ['sum by (job, instance) (rate(relay_mutation_requests_total{outcome="unauthorized"}[5m]))'],
    "RelayLatencyObjectiveMissed": [
        "histogram_quantile(0.99, sum by (le, topic) (rate(relay_record_end_to_end_latency_seconds_bucket[5m])))",
    ],
}
LATENCY_HISTOGRAMS = [
    "relay_record_end_to_end_latency_seconds",
    "relay_record_consume_latency_seconds",
    "relay_record_relay_latency_seconds",
    "relay_mutation_request_duration_seconds",
]


def load_dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def load_alert_rules() -> list[dict]:
    groups = yaml.safe_load(ALERT_RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def dashboard_queries() -> list[tuple[str, str]]:
    """Return (panel title and refId, PromQL) for every panel target, with Grafana's interval filled in."""
    return [
        (f"{panel['title']} {target['refId']}", target["expr"].replace("$__rate_interval", RATE_INTERVAL))
        for panel in load_dashboard()["panels"]
        for target in panel["targets"]
    ]


def alert_left_hand_sides() -> list[tuple[str, str]]:
    return [(alert, expr) for alert, exprs in ALERT_LEFT_HAND_SIDES.items() for expr in exprs]


def squeeze(text: str) -> str:
    return " ".join(text.split())


def promtool(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool was not found on PATH; install it with `apt-get install prometheus`")
    return subprocess.run([binary, *args], capture_output=True, text=True, check=False, timeout=60)


# Configuration files, checked without a running stack ------------------------


def test_promtool_check_config():
    result = promtool("check", "config", str(SCRAPE_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_rules():
    result = promtool("check", "rules", str(ALERT_RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rule_unit_tests():
    result = promtool("test", "rules", str(ALERT_RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_config_valid(tmp_path):
    config = dataclasses.replace(StackConfig.from_env(), state_dir=tmp_path)
    rendered = tmp_path / "prometheus.yml"
    rendered.write_text(Prometheus(config, relay_targets=["127.0.0.1:18080"]).render_config())
    result = promtool("check", "config", str(rendered))
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_have_for():
    missing = [rule["alert"] for rule in load_alert_rules() if "for" not in rule]
    assert missing == []


def test_alert_rules_have_severity():
    invalid = [rule["alert"] for rule in load_alert_rules()
               if rule.get("labels", {}).get("severity") not in ("warning", "critical")]
    assert invalid == []


def test_alert_rules_have_summary():
    missing = [rule["alert"] for rule in load_alert_rules() if not rule.get("annotations", {}).get("summary")]
    assert missing == []


def test_left_hand_sides_cover_alerts():
    assert set(ALERT_LEFT_HAND_SIDES) == {rule["alert"] for rule in load_alert_rules()}


@pytest.mark.parametrize("alert, expr", alert_left_hand_sides())
def test_left_hand_side_in_rule(alert, expr):
    rules = {rule["alert"]: squeeze(rule["expr"]) for rule in load_alert_rules()}
    assert squeeze(expr) in rules[alert]


def test_dashboard_datasource_variable():
    variables = {variable["name"]: variable for variable in load_dashboard()["templating"]["list"]}
    assert (variables["datasource"]["type"], variables["datasource"]["query"]) == ("datasource", "prometheus")


def test_dashboard_panels_use_variable():
    sources = {json.dumps(panel["datasource"]) for panel in load_dashboard()["panels"]}
    sources |= {json.dumps(target["datasource"]) for panel in load_dashboard()["panels"] for target in panel["targets"]}
    assert sources == {json.dumps({"type": "prometheus", "uid": "${datasource}"})}


def test_dashboard_panel_ids_unique():
    ids = [panel["id"] for panel in load_dashboard()["panels"]]
    assert len(ids) == len(set(ids))


def test_dashboard_panels_fit_grid():
    overflowing = [panel["title"] for panel in load_dashboard()["panels"]
                   if panel["gridPos"]["x"] + panel["gridPos"]["w"] > 24]
    assert overflowing == []


@pytest.mark.parametrize("quantile", ["0.5", "0.95", "0.99"])
def test_end_to_end_panel_quantile(quantile):
    panel = next(panel for panel in load_dashboard()["panels"] if panel["title"] == "End-to-end latency")
    expected = f"histogram_quantile({quantile}, sum by (le) (rate(relay_record_end_to_end_latency_seconds_bucket["
    assert any(target["expr"].startswith(expected) for target in panel["targets"])


@pytest.mark.parametrize("title", [
    "End-to-end latency", "Mutation request latency", "Throughput", "Consumer lag per partition",
    "Errors and dead letters", "Retries", "Batch size", "Paused partitions and requests in flight",
])
def test_dashboard_has_panel(title):
    assert title in {panel["title"] for panel in load_dashboard()["panels"]}


# devstack/prometheus.py on its own ------------------------------------------------


@pytest.fixture
def prometheus_config(tmp_path) -> StackConfig:
    return dataclasses.replace(StackConfig.from_env(), state_dir=tmp_path, prometheus_port=free_port())


def scrape_targets(prometheus: Prometheus) -> set[str]:
    with urllib.request.urlopen(f"{prometheus.url}/api/v1/targets", timeout=10) as response:
        active = json.load(response)["data"]["activeTargets"]
    return {target["labels"]["instance"] for target in active}


def query_until_targets(prometheus: Prometheus, expected: set[str], timeout_s: float = 10.0) -> set[str]:
    # Service discovery fills the target list a moment after a start or reload.
    deadline = time.monotonic() + timeout_s
    while True:
        targets = scrape_targets(prometheus)
        if targets == expected or time.monotonic() >= deadline:
            return targets
        time.sleep(0.2)


def test_prometheus_start_returns_true(prometheus_config):
    prometheus = Prometheus(prometheus_config, relay_targets=["127.0.0.1:18081"])
    try:
        assert prometheus.start() is True
    finally:
        prometheus.stop()


def test_prometheus_stop_ends_process(prometheus_config):
    prometheus = Prometheus(prometheus_config, relay_targets=["127.0.0.1:18081"])
    prometheus.start()
    prometheus.stop()
    assert prometheus.is_running() is False


def test_prometheus_default_targets(prometheus_config):
    prometheus = Prometheus(prometheus_config)
    prometheus.start()
    try:
        assert query_until_targets(prometheus, {"127.0.0.1:18080"}) == {"127.0.0.1:18080"}
    finally:
        prometheus.stop()


def test_prometheus_reloads_new_targets(prometheus_config):
    first = Prometheus(prometheus_config, relay_targets=["127.0.0.1:18081"])
    first.start()
    try:
        second = Prometheus(prometheus_config, relay_targets=["127.0.0.1:18082"])
        assert second.start() is False
        assert query_until_targets(second, {"127.0.0.1:18082"}) == {"127.0.0.1:18082"}
    finally:
        first.stop()


def test_prometheus_missing_binary_named(prometheus_config, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StackError, match="apt-get install prometheus"):
        Prometheus(prometheus_config).start()


# The relays on the local stack, scraped by a real Prometheus -------------------


class RelayRun:
    """Two relays and a steady tick producer on an event loop in a thread of their own.

    The thread keeps the relays serving scrapes while the tests, which are
    synchronous, query Prometheus.
    """

    def __init__(self, stack, healthy: RelaySettings, rejected: RelaySettings):
        self._stack = stack
        self._healthy = healthy
        self._rejected = rejected
        self._thread = threading.Thread(target=self._run, name="relay-run", daemon=True)
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.error: BaseException | None = None

    def start(self, timeout_s: float) -> None:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise AssertionError(f"the relays were not running with every tick produced after {timeout_s} s")
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=90)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # handed to the test thread by start() and stop()
            self.error = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        bootstrap = self._stack.bootstrap_servers
        topic = self._healthy.topic_list[0]
        async with running_relay(self._stack, self._healthy) as healthy, \
                running_relay(self._stack, self._rejected) as rejected:
            # Producing after the relays joined keeps the group join out of the measured latency.
            await wait_for(lambda: _assigned(healthy) and _assigned(rejected), 60, "both relays to get partitions")
            await send_raw(bootstrap, topic, POISON_RECORDS)
            await produce_ticks(bootstrap, topic, symbols(50), TICKS)
            await produce_ticks(bootstrap, self._rejected.topic_list[0], symbols(5), 50)
            self._ready.set()
            await self._produce_until_stopped(bootstrap, topic)

    async def _produce_until_stopped(self, bootstrap: str, topic: str) -> None:
        """Keep ticks flowing, so rates and latency quantiles over the last minute are not empty."""
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        await producer.start()
        try:
            while not self._stop.is_set():
                for symbol in symbols(20):
                    value = {"symbol": symbol, "ts": int(time.time() * 1000), "close": 100, "seq": 0}
                    await producer.send(topic, json.dumps(value).encode(), key=symbol.encode())
                try:
                    await asyncio.wait_for(self._stop.wait(), 0.5)
                except asyncio.TimeoutError:
                    pass
        finally:
            await producer.stop()


def _assigned(metrics) -> bool:
    return (metrics.registry.get_sample_value("relay_assigned_partitions") or 0) > 0


async def _create_topics(bootstrap_servers: str, partitions: dict[str, int]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name=name, num_partitions=count, replication_factor=1)
                                   for name, count in partitions.items()])
    finally:
        await admin.close()


@dataclasses.dataclass(frozen=True)
class Scraped:
    prometheus_url: str
    metrics_url: str
    rejected_topic: str
    rejected_instance: str


def query(prometheus_url: str, expr: str) -> list[dict]:
    """Run an instant query through Prometheus's HTTP API and return the result vector."""
    url = f"{prometheus_url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=10) as response:
        body = json.load(response)
    if body["status"] != "success":
        raise AssertionError(f"Prometheus rejected {expr!r}: {body}")
    return body["data"]["result"]


def query_until(prometheus_url: str, expr: str, accept, timeout_s: float = SERIES_TIMEOUT_S) -> list[dict]:
    """Poll an instant query until accept(result) is true, and return the last result either way."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = query(prometheus_url, expr)
        if accept(result) or time.monotonic() >= deadline:
            return result
        time.sleep(0.5)


def query_until_series(prometheus_url: str, expr: str) -> list[dict]:
    return query_until(prometheus_url, expr, bool)


def target_health(prometheus: Prometheus) -> list[tuple[str, str, str]]:
    """Return (instance, health, last scrape error) of each scrape target, for failure messages."""
    with urllib.request.urlopen(f"{prometheus.url}/api/v1/targets", timeout=10) as response:
        active = json.load(response)["data"]["activeTargets"]
    return [(target["labels"]["instance"], target["health"], target["lastError"]) for target in active]


def scalar(prometheus_url: str, expr: str) -> float:
    result = query(prometheus_url, expr)
    return float(result[0]["value"][1]) if result else 0.0


@pytest.fixture(scope="module")
def scraped(stack, tmp_path_factory) -> Scraped:
    """Prometheus scraping both relays once the healthy one published every tick and dead-lettered the poison."""
    name = f"observability-{uuid.uuid4().hex[:8]}"
    healthy_topic, rejected_topic = f"{name}-ticks", f"{name}-rejected"
    asyncio.run(_create_topics(stack.bootstrap_servers, {
        healthy_topic: 6, f"{healthy_topic}.dlq": 1, rejected_topic: 2, f"{rejected_topic}.dlq": 1,
    }))

    healthy_port, rejected_port = free_port(), free_port()
    config = dataclasses.replace(StackConfig.from_env(), state_dir=tmp_path_factory.mktemp("devstack"),
                                 prometheus_port=free_port())
    prometheus = Prometheus(config, relay_targets=[f"127.0.0.1:{healthy_port}", f"127.0.0.1:{rejected_port}"],
                            scrape_interval_s=1.0)
    prometheus.start()

    healthy = relay_settings(stack, healthy_topic, healthy_topic, ops_port=healthy_port)
    rejected = relay_settings(stack, rejected_topic, rejected_topic, ops_port=rejected_port,
                              appsync_api_key="da2-wrong-key", auth_retry_s=0.5,
                              drain_budget_s=0.5, revoke_budget_s=0.5)
    run = RelayRun(stack, healthy, rejected)
    try:
        run.start(timeout_s=120)
        expected = {
            "sum(relay_records_published_total)": TICKS,
            "sum(relay_records_dead_lettered_total)": len(POISON_RECORDS),
            'sum(relay_retries_total{cause="unauthorized"})': 1,
        }
        # Generous, because the machine may be busy with other test runs.
        deadline = time.monotonic() + PUBLISH_TIMEOUT_S
        for expr, minimum in expected.items():
            while (value := scalar(prometheus.url, expr)) < minimum:
                if time.monotonic() > deadline:
                    raise AssertionError(f"Prometheus had {expr} = {value} instead of at least {minimum} "
                                         f"after {PUBLISH_TIMEOUT_S} s; "
                                         f"scrape targets: {target_health(prometheus)}")
                time.sleep(0.5)
        yield Scraped(prometheus.url, f"http://127.0.0.1:{healthy_port}/metrics", rejected_topic,
                      f"127.0.0.1:{rejected_port}")
    finally:
        try:
            run.stop()
        finally:
            prometheus.stop()


def exported_series_names(metrics_url: str) -> set[str]:
    """Return the series names that the /metrics families produce, from their # TYPE lines."""
    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        text = response.read().decode()
    names = set()
    for line in text.splitlines():
        if not line.startswith("# TYPE "):
            continue
        _, _, family, kind = line.split()
        if kind == "histogram":
            names |= {f"{family}_bucket", f"{family}_sum", f"{family}_count"}
        else:
            names.add(family)
    return names


@pytest.mark.stack
def test_dashboard_metrics_exported(scraped):
    used = {name for _, expr in dashboard_queries() for name in METRIC_NAME.findall(expr)}
    assert used - exported_series_names(scraped.metrics_url) == set()


@pytest.mark.stack
def test_alert_metrics_exported(scraped):
    used = {name for rule in load_alert_rules() for name in METRIC_NAME.findall(rule["expr"])}
    assert used - exported_series_names(scraped.metrics_url) == set()


@pytest.mark.stack
@pytest.mark.parametrize("panel, expr", dashboard_queries(), ids=[panel for panel, _ in dashboard_queries()])
def test_dashboard_query_returns_series(scraped, panel, expr):
    assert query_until_series(scraped.prometheus_url, expr) != [], f"{panel}: {expr}"


# Each alert's expression returns nothing while the relay is healthy, which is
# why this checks the left-hand sides of its comparisons instead.
@pytest.mark.stack
@pytest.mark.parametrize("alert, expr", alert_left_hand_sides())
def test_alert_left_hand_side_returns_series(scraped, alert, expr):
    assert query_until_series(scraped.prometheus_url, expr) != [], f"{alert}: {expr}"


@pytest.mark.stack
@pytest.mark.parametrize("histogram", LATENCY_HISTOGRAMS)
def test_latency_p99_inside_buckets(scraped, histogram):
    # Over the cumulative buckets, so every observation of the run counts.
    result = query(scraped.prometheus_url, f"histogram_quantile(0.99, sum by (le) ({histogram}_bucket))")
    assert len(result) == 1
    p99 = float(result[0]["value"][1])
    assert not math.isnan(p99)
    # histogram_quantile returns the highest finite bound when the quantile falls into +Inf.
    assert p99 < LATENCY_BUCKETS_S[-1]


@pytest.mark.stack
def test_lag_counts_waiting_records(scraped):
    # AppSync rejects every request of this relay, so all 50 of its ticks wait.
    expr = f'sum(relay_consumer_lag_records{{topic="{scraped.rejected_topic}"}})'
    result = query_until(scraped.prometheus_url, expr, lambda result: result and result[0]["value"][1] == "50")
    assert [series["value"][1] for series in result] == ["50"]


@pytest.mark.stack
def test_no_progress_alert_finds_stuck_partitions(scraped):
    # The whole expression, which is true only where no offset was committed.
    rules = {rule["alert"]: rule["expr"] for rule in load_alert_rules()}
    stuck = {(scraped.rejected_topic, "0"), (scraped.rejected_topic, "1")}
    result = query_until(scraped.prometheus_url, rules["RelayNoProgress"],
                         lambda result: {(s["metric"]["topic"], s["metric"]["partition"]) for s in result} == stuck)
    assert {(series["metric"]["topic"], series["metric"]["partition"]) for series in result} == stuck


@pytest.mark.stack
def test_unauthorized_alert_finds_rejected_relay(scraped):
    rules = {rule["alert"]: rule["expr"] for rule in load_alert_rules()}
    result = query_until_series(scraped.prometheus_url, rules["RelayUnauthorized"])
    assert {series["metric"]["instance"] for series in result} == {scraped.rejected_instance}
