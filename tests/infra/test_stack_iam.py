"""Least privilege: the roles' statements name their resources."""

from __future__ import annotations

import importlib

import pytest

NO_VALUE = {"Ref": "AWS::NoValue"}


def _branches(value) -> list:
    """Return the values a possibly conditional item can take, without AWS::NoValue."""
    if isinstance(value, dict) and "Fn::If" in value:
        return [branch for branch in value["Fn::If"][1:] if branch != NO_VALUE]
    return [value]


def _statements(resources: dict, role: str) -> list[dict]:
    """Return every statement of a role's inline policies and attached AWS::IAM::Policy resources."""
    documents = [p["PolicyDocument"] for p in resources[role]["Properties"].get("Policies", [])]
    documents += [
        body["Properties"]["PolicyDocument"] for body in resources.values()
        if body["Type"] == "AWS::IAM::Policy" and {"Ref": role} in body["Properties"]["Roles"]
    ]
    return [branch for document in documents for item in document["Statement"] for branch in _branches(item)]


def _resources_of(statement: dict) -> list:
    return [branch for item in statement["Resource"] for branch in _branches(item)]


def _unscoped_actions(resources: dict, role: str) -> set[str]:
    return {action for s in _statements(resources, role) if "*" in _resources_of(s) for action in s["Action"]}


def _statement_with(resources: dict, role: str, action: str) -> dict:
    (statement,) = [s for s in _statements(resources, role) if action in s["Action"]]
    return statement


@pytest.fixture(scope="module")
def stack_module(build):
    # Loading build.py put infra/ on sys.path.
    return lambda name: importlib.import_module(f"relay_stack.{name}")


def test_task_role_names_every_resource(resources):
    assert _unscoped_actions(resources, "RelayTaskRole") == set()


def test_execution_role_unscoped_actions(resources, stack_module):
    allowed = set(stack_module("ecs").UNSCOPED_EXECUTION_ACTIONS)
    assert _unscoped_actions(resources, "RelayExecutionRole") == allowed


def test_producer_role_unscoped_actions(resources, stack_module):
    allowed = set(stack_module("producer_lambda").UNSCOPED_VPC_ACTIONS)
    assert _unscoped_actions(resources, "ProducerRole") == allowed


def test_custom_resource_role_names_every_resource(resources):
    assert _unscoped_actions(resources, "CustomResourceRole") == set()


def test_bastion_role_names_every_resource(resources):
    assert _unscoped_actions(resources, "BastionRole") == set()


def test_appsync_logs_role_names_every_resource(resources):
    assert _unscoped_actions(resources, "AppSyncLogsRole") == set()


def test_flow_log_role_names_every_resource(resources):
    assert _unscoped_actions(resources, "VpcFlowLogRole") == set()


def test_no_action_wildcards(of_type, resources):
    wildcards = [(role, action) for role in of_type("AWS::IAM::Role")
                 for s in _statements(resources, role) for action in s["Action"] if action.endswith("*")]
    assert wildcards == []


def test_task_role_connects_to_cluster(resources):
    statement = _statement_with(resources, "RelayTaskRole", "kafka-cluster:Connect")
    assert statement["Resource"] == [{"Ref": "KafkaCluster"}]


def test_task_role_reads_tick_topic(resources):
    statement = _statement_with(resources, "RelayTaskRole", "kafka-cluster:ReadData")
    (arn,) = statement["Resource"]
    assert arn["Fn::Sub"][1]["ResourceName"] == {"Ref": "TickTopicName"}


def test_task_role_writes_dead_letter_topic(resources):
    statement = _statement_with(resources, "RelayTaskRole", "kafka-cluster:WriteData")
    (arn,) = statement["Resource"]
    assert arn["Fn::Sub"][1]["ResourceName"] == {"Ref": "DeadLetterTopicName"}


def test_task_role_joins_consumer_group(resources):
    statement = _statement_with(resources, "RelayTaskRole", "kafka-cluster:AlterGroup")
    (arn,) = statement["Resource"]
    assert arn["Fn::Sub"][1]["ResourceName"] == {"Ref": "ConsumerGroupId"}


def test_group_arn_built_from_cluster_arn(resources):
    statement = _statement_with(resources, "RelayTaskRole", "kafka-cluster:AlterGroup")
    (arn,) = statement["Resource"]
    pattern, variables = arn["Fn::Sub"]
    assert pattern.endswith(":group/${ClusterName}/${ClusterUuid}/${ResourceName}")
    assert variables["ClusterName"] == {"Fn::Select": [1, {"Fn::Split": ["/", {"Ref": "KafkaCluster"}]}]}
    assert variables["ClusterUuid"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "KafkaCluster"}]}]}


def test_topic_arn_prefix(resources):
    statement = _statement_with(resources, "RelayTaskRole", "kafka-cluster:ReadData")
    (arn,) = statement["Resource"]
    assert arn["Fn::Sub"][0].startswith("arn:${AWS::Partition}:kafka:${AWS::Region}:${AWS::AccountId}:topic/")


def test_task_role_publish_field_only(resources):
    statement = _statement_with(resources, "RelayTaskRole", "appsync:GraphQL")
    assert statement["Resource"] == [
        {"Fn::Sub": ["${ApiArn}/types/Mutation/fields/publish", {"ApiArn": {"Fn::GetAtt": ["GraphQLApi", "Arn"]}}]}
    ]


def test_task_role_reads_named_secrets(resources):
    secrets = [s["Resource"] for s in _statements(resources, "RelayTaskRole")
               if "secretsmanager:GetSecretValue" in s["Action"]]
    assert secrets == [[{"Ref": "ApiKeySecret"}], [{"Ref": "ScramSecret"}]]


def test_task_role_decrypts_with_stack_key(resources):
    statement = _statement_with(resources, "RelayTaskRole", "kms:Decrypt")
    assert statement["Resource"] == [{"Fn::GetAtt": ["StackKey", "Arn"]}]


def test_task_role_remote_writes_to_workspace(resources):
    statement = _statement_with(resources, "RelayTaskRole", "aps:RemoteWrite")
    assert statement["Resource"] == [{"Fn::GetAtt": ["PrometheusWorkspace", "Arn"]}]


def test_producer_writes_tick_topic_only(resources):
    statement = _statement_with(resources, "ProducerRole", "kafka-cluster:WriteData")
    (arn,) = statement["Resource"]
    assert arn["Fn::Sub"][1]["ResourceName"] == {"Ref": "TickTopicName"}


def test_producer_cannot_read(resources):
    actions = {a for s in _statements(resources, "ProducerRole") for a in s["Action"]}
    assert "kafka-cluster:ReadData" not in actions


def test_broker_lookup_scoped_to_cluster(resources):
    statement = _statement_with(resources, "CustomResourceRole", "kafka:GetBootstrapBrokers")
    assert statement["Resource"] == [{"Ref": "KafkaCluster"}]


def test_bastion_cannot_write(resources):
    actions = {a for s in _statements(resources, "BastionRole") for a in s["Action"]}
    assert "kafka-cluster:WriteData" not in actions


def test_roles_trust_one_service(of_type):
    principals = {name: role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
                  for name, role in of_type("AWS::IAM::Role").items()}
    not_service = [name for name, principal in principals.items() if list(principal) != ["Service"]]
    assert not_service == []
