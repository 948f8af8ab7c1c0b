"""The producer Lambda and the custom resource function."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture(scope="module")
def producer(resources) -> dict:
    return resources["ProducerFunction"]["Properties"]


@pytest.fixture(scope="module")
def handler_module(build):
    # Loading build.py put infra/ on sys.path.
    return importlib.import_module("relay_stack.custom_resource_handler")


def test_producer_runtime(producer):
    assert producer["Runtime"] == "python3.13"


def test_producer_handler(producer):
    assert producer["Handler"] == "producer.lambda_handler.handler"


def test_producer_code_from_parameters(producer):
    assert producer["Code"] == {"S3Bucket": {"Ref": "ProducerCodeS3Bucket"}, "S3Key": {"Ref": "ProducerCodeS3Key"}}


def test_producer_architecture_parameter(producer):
    assert producer["Architectures"] == [{"Ref": "CpuArchitecture"}]


def test_producer_environment(producer):
    assert producer["Environment"]["Variables"] == {
        "KAFKA_BOOTSTRAP_SERVERS": {"Fn::GetAtt": ["BootstrapBrokers", "SaslIam"]},
        "KAFKA_AUTH": "iam",
        "PRODUCER_TOPIC": {"Ref": "TickTopicName"},
        "PRODUCER_SOURCE": "replay",
        "PRODUCER_MAX_RECORDS": {"Ref": "ProducerMaxRecords"},
        "PRODUCER_SCHEDULE_S": {"Fn::FindInMap": ["ProducerSchedule", {"Ref": "ProducerScheduleMinutes"}, "Seconds"]},
    }


def test_producer_max_records_default(template):
    assert template["Parameters"]["ProducerMaxRecords"]["Default"] == 60


def test_producer_one_run_at_a_time(producer):
    assert producer["ReservedConcurrentExecutions"] == 1


def test_producer_log_group(producer):
    assert producer["LoggingConfig"]["LogGroup"] == {"Ref": "ProducerLogGroup"}


def test_producer_schedule_default(template):
    default = template["Parameters"]["ProducerScheduleMinutes"]["Default"]
    assert template["Mappings"]["ProducerSchedule"][default]["Expression"] == "rate(1 minute)"


def test_producer_schedule_period_matches_expression(template):
    table = template["Mappings"]["ProducerSchedule"]
    mismatched = [m for m, row in table.items() if not row["Expression"].startswith(f"rate({m} minute")
                  or int(row["Seconds"]) != int(m) * 60]
    assert mismatched == []


def test_schedule_rule_uses_mapping(resources):
    expression = resources["ProducerScheduleRule"]["Properties"]["ScheduleExpression"]
    assert expression == {"Fn::FindInMap": ["ProducerSchedule", {"Ref": "ProducerScheduleMinutes"}, "Expression"]}


def test_schedule_targets_producer(resources):
    (target,) = resources["ProducerScheduleRule"]["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["ProducerFunction", "Arn"]}


def test_schedule_permission_scoped(resources):
    permission = resources["ProducerSchedulePermission"]["Properties"]
    assert permission["SourceArn"] == {"Fn::GetAtt": ["ProducerScheduleRule", "Arn"]}


def test_custom_resource_runtime(resources):
    assert resources["CustomResourceFunction"]["Properties"]["Runtime"] == "python3.13"


def test_custom_resource_code_is_handler_file(resources, repo_root):
    code = resources["CustomResourceFunction"]["Properties"]["Code"]["ZipFile"]
    source = repo_root / "infra" / "troposphere" / "relay_stack" / "custom_resource_handler.py"
    assert code.encode("utf-8") == source.read_bytes()


def test_custom_resource_code_fits_inline(resources):
    assert len(resources["CustomResourceFunction"]["Properties"]["Code"]["ZipFile"]) <= 4096


def test_api_key_expiry_adds_days(handler_module):
    result = handler_module.api_key_expiry({"ValidityDays": "364"}, now_s=1_000_000.5)
    assert result == {"ExpiresEpochSeconds": str(1_000_000 + 364 * 86400)}


def test_api_key_expiry_rejects_one_day(handler_module):
    with pytest.raises(ValueError, match="ValidityDays=1"):
        handler_module.api_key_expiry({"ValidityDays": "1"})


def test_api_key_expiry_rejects_full_year(handler_module):
    with pytest.raises(ValueError, match="ValidityDays=365"):
        handler_module.api_key_expiry({"ValidityDays": "365"})


def test_response_body_echoes_request(handler_module):
    event = {"StackId": "stack", "RequestId": "request", "LogicalResourceId": "ApiKeyExpiry"}
    body = handler_module.response_body(event, "SUCCESS", {"A": "1"}, "ok", "physical")
    assert body == {
        "Status": "SUCCESS", "Reason": "ok", "PhysicalResourceId": "physical", "StackId": "stack",
        "RequestId": "request", "LogicalResourceId": "ApiKeyExpiry", "Data": {"A": "1"},
    }


def test_handlers_cover_custom_types(handler_module, resources):
    custom_types = {body["Type"] for body in resources.values() if body["Type"].startswith("Custom::")}
    assert custom_types == set(handler_module.HANDLERS)
