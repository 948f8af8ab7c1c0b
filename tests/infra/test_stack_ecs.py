"""The relay's task definition, service and auto scaling."""

from __future__ import annotations

import pytest

NO_VALUE = {"Ref": "AWS::NoValue"}
RELAY_ENVIRONMENT = {
    "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_AUTH", "KAFKA_SCRAM_SECRET_ARN", "AWS_REGION", "RELAY_TOPICS",
    "RELAY_GROUP_ID", "RELAY_DEAD_LETTER_TOPIC", "RELAY_APPSYNC_URL", "RELAY_APPSYNC_AUTH",
    "RELAY_APPSYNC_API_KEY_SECRET_ARN", "RELAY_DRAIN_BUDGET_S", "RELAY_OPS_PORT",
}


@pytest.fixture(scope="module")
def containers(resources) -> list[dict]:
    definitions = resources["RelayTaskDefinition"]["Properties"]["ContainerDefinitions"]
    return [d["Fn::If"][1] if "Fn::If" in d else d for d in definitions]


@pytest.fixture(scope="module")
def relay(containers) -> dict:
    (container,) = [c for c in containers if c["Name"] == "relay"]
    return container


@pytest.fixture(scope="module")
def collector(containers) -> dict:
    (container,) = [c for c in containers if c["Name"] == "adot-collector"]
    return container


@pytest.fixture(scope="module")
def relay_environment(relay) -> dict:
    entries = [e["Fn::If"][1] if "Fn::If" in e else e for e in relay["Environment"]]
    return {entry["Name"]: entry["Value"] for entry in entries}


@pytest.fixture(scope="module")
def scaling_metrics(resources) -> dict:
    config = resources["RelayLagScalingPolicy"]["Properties"]["TargetTrackingScalingPolicyConfiguration"]
    return {query["Id"]: query for query in config["CustomizedMetricSpecification"]["Metrics"]}


def test_health_check_is_shell(relay):
    assert relay["HealthCheck"]["Command"][0] == "CMD-SHELL"


def test_health_check_hits_healthz(relay):
    assert "http://127.0.0.1:8080/healthz" in relay["HealthCheck"]["Command"][1]


def test_health_check_uses_python(relay):
    assert relay["HealthCheck"]["Command"][1].startswith("python -c ")


def test_stop_timeout_from_drain_budget(relay):
    lookup = ["StopTimeoutByDrainBudget", {"Ref": "DrainBudgetSeconds"}, "Seconds"]
    assert relay["StopTimeout"] == {"Fn::FindInMap": lookup}


def test_stop_timeout_covers_every_drain_budget(template):
    budgets = template["Parameters"]["DrainBudgetSeconds"]["AllowedValues"]
    table = template["Mappings"]["StopTimeoutByDrainBudget"]
    short = [b for b in budgets if int(table[str(b)]["Seconds"]) < b + 10]
    assert short == []


def test_stop_timeout_within_fargate_limit(template):
    table = template["Mappings"]["StopTimeoutByDrainBudget"]
    too_long = [budget for budget, row in table.items() if int(row["Seconds"]) > 120]
    assert too_long == []


def test_default_drain_budget(template):
    assert template["Parameters"]["DrainBudgetSeconds"]["Default"] == 20


def test_default_stop_timeout(template):
    assert template["Mappings"]["StopTimeoutByDrainBudget"]["20"]["Seconds"] == "30"


def test_drain_budget_passed_to_relay(relay_environment):
    assert relay_environment["RELAY_DRAIN_BUDGET_S"] == {"Ref": "DrainBudgetSeconds"}


def test_relay_environment_names(relay_environment):
    assert set(relay_environment) == RELAY_ENVIRONMENT


def test_ops_port(relay_environment):
    assert relay_environment["RELAY_OPS_PORT"] == "8080"


def test_bootstrap_brokers_follow_auth(relay_environment):
    assert relay_environment["KAFKA_BOOTSTRAP_SERVERS"] == {
        "Fn::If": [
            "UseScramForRelay",
            {"Fn::GetAtt": ["BootstrapBrokers", "SaslScram"]},
            {"Fn::GetAtt": ["BootstrapBrokers", "SaslIam"]},
        ]
    }


def test_appsync_url(relay_environment):
    assert relay_environment["RELAY_APPSYNC_URL"] == {"Fn::GetAtt": ["GraphQLApi", "GraphQLUrl"]}


def test_relay_root_filesystem_read_only(relay):
    assert relay["ReadonlyRootFilesystem"] is True


def test_relay_logs_to_cloudwatch(relay):
    assert relay["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "RelayLogGroup"}


def test_runtime_platform_follows_parameter(resources):
    platform = resources["RelayTaskDefinition"]["Properties"]["RuntimePlatform"]
    assert platform["CpuArchitecture"] == {"Fn::If": ["UseArm64", "ARM64", "X86_64"]}


def test_task_size_parameters(resources):
    properties = resources["RelayTaskDefinition"]["Properties"]
    assert (properties["Cpu"], properties["Memory"]) == ({"Ref": "TaskCpu"}, {"Ref": "TaskMemoryMiB"})


def test_circuit_breaker_enabled(resources):
    breaker = resources["RelayService"]["Properties"]["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker["Enable"] is True


def test_circuit_breaker_rolls_back(resources):
    breaker = resources["RelayService"]["Properties"]["DeploymentConfiguration"]["DeploymentCircuitBreaker"]
    assert breaker["Rollback"] is True


def test_service_runs_on_fargate(resources):
    assert resources["RelayService"]["Properties"]["LaunchType"] == "FARGATE"


def test_service_leaves_count_to_scaling(resources):
    assert "DesiredCount" not in resources["RelayService"]["Properties"]


def test_container_insights(resources):
    settings = resources["RelayCluster"]["Properties"]["ClusterSettings"]
    assert settings == [{"Name": "containerInsights", "Value": "enabled"}]


def test_scaling_capacity_parameters(resources):
    target = resources["RelayScalableTarget"]["Properties"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == ({"Ref": "MinTaskCount"}, {"Ref": "MaxTaskCount"})


def test_scaling_on_sum_offset_lag(scaling_metrics):
    metric = scaling_metrics["lag"]["MetricStat"]["Metric"]
    assert (metric["Namespace"], metric["MetricName"]) == ("AWS/Kafka", "SumOffsetLag")


def test_lag_metric_dimensions(scaling_metrics):
    dimensions = {d["Name"]: d["Value"] for d in scaling_metrics["lag"]["MetricStat"]["Metric"]["Dimensions"]}
    assert dimensions == {
        "Cluster Name": {"Fn::Sub": "${AWS::StackName}-relay"},
        "Consumer Group": {"Ref": "ConsumerGroupId"},
        "Topic": {"Ref": "TickTopicName"},
    }


def test_scaling_on_lag_per_task(scaling_metrics):
    assert scaling_metrics["lag_per_task"]["Expression"] == "lag / tasks"


def test_lag_metric_emitted_at_monitoring_level(of_type):
    (cluster,) = of_type("AWS::MSK::Cluster").values()
    assert cluster["Properties"]["EnhancedMonitoring"] == {"Ref": "BrokerMonitoringLevel"}


def test_service_needs_image_tag(resources):
    assert resources["RelayService"]["Condition"] == "HasRelayImageTag"


def test_collector_scrapes_relay_metrics(collector):
    (config,) = [e["Value"]["Fn::Sub"][0] for e in collector["Environment"] if e["Name"] == "AOT_CONFIG_CONTENT"]
    assert 'targets: ["127.0.0.1:8080"]' in config


def test_collector_metrics_path(collector):
    (config,) = [e["Value"]["Fn::Sub"][0] for e in collector["Environment"] if e["Name"] == "AOT_CONFIG_CONTENT"]
    assert "metrics_path: /metrics" in config


def test_collector_not_essential(collector):
    assert collector["Essential"] is False


def test_collector_only_with_prometheus(resources):
    definitions = resources["RelayTaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert definitions[1]["Fn::If"][0] == "RunPrometheusCollector"


def test_workspace_is_conditional(resources):
    assert resources["PrometheusWorkspace"]["Condition"] == "EnablePrometheusMetrics"
