"""KafkaSettings: defaults, the region fallback, and validation messages that name the variable and the fix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kafka_client.settings import KafkaSettings, describe_settings_error

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_relay-AbCdEf"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in (
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_AUTH",
        "KAFKA_SCRAM_SECRET_ARN",
        "KAFKA_TLS",
        "KAFKA_AWS_REGION",
        "KAFKA_CLIENT_ID",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)


def _error(**values) -> str:
    with pytest.raises(ValidationError) as caught:
        KafkaSettings(**values)
    return describe_settings_error(caught.value)


def test_reads_environment(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "b-1:9092, b-2:9092")

    assert KafkaSettings().bootstrap_servers == "b-1:9092,b-2:9092"


def test_defaults():
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:19092")

    assert (settings.auth, settings.use_tls, settings.client_id) == ("none", False, "kafka-appsync-relay")


def test_frozen():
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:19092")

    with pytest.raises(ValidationError):
        settings.auth = "iam"


def test_missing_bootstrap_servers():
    assert "KAFKA_BOOTSTRAP_SERVERS is missing: set it to the brokers' comma-separated host:port list" in _error()


def test_bootstrap_server_without_port():
    assert "KAFKA_BOOTSTRAP_SERVERS entry 'b-1.example' is invalid: each entry must be host:port" in _error(bootstrap_servers="b-1.example")


def test_bootstrap_server_port_out_of_range():
    assert "entry 'b-1:70000' is invalid" in _error(bootstrap_servers="b-1:70000")


def test_invalid_auth():
    assert "KAFKA_AUTH='kerberos' is invalid: set it to none, scram or iam" in _error(bootstrap_servers="b:9092", auth="kerberos")


def test_auth_case_insensitive():
    assert KafkaSettings(bootstrap_servers="b:9098", auth="IAM", aws_region="us-east-1").auth == "iam"


def test_scram_needs_secret_arn():
    assert "KAFKA_SCRAM_SECRET_ARN is missing: KAFKA_AUTH=scram needs the ARN" in _error(bootstrap_servers="b:9096", auth="scram")


def test_scram_rejects_secret_name():
    message = _error(bootstrap_servers="b:9096", auth="scram", scram_secret_arn="AmazonMSK_relay")

    assert "KAFKA_SCRAM_SECRET_ARN='AmazonMSK_relay' is not a Secrets Manager secret ARN" in message


def test_scram_defaults_to_tls():
    assert KafkaSettings(bootstrap_servers="b:9096", auth="scram", scram_secret_arn=SECRET_ARN).use_tls is True


def test_scram_region_from_arn():
    settings = KafkaSettings(bootstrap_servers="b:9096", auth="scram", scram_secret_arn=SECRET_ARN, aws_region="us-east-1")

    assert settings.secrets_region == "eu-west-1"


def test_iam_needs_region():
    assert "KAFKA_AWS_REGION is missing: KAFKA_AUTH=iam signs its tokens" in _error(bootstrap_servers="b:9098", auth="iam")


def test_iam_region_from_aws_region(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")

    assert KafkaSettings(bootstrap_servers="b:9098", auth="iam").aws_region == "ap-southeast-2"


def test_iam_region_from_aws_default_region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ca-central-1")

    assert KafkaSettings(bootstrap_servers="b:9098", auth="iam").aws_region == "ca-central-1"


def test_iam_rejects_plaintext():
    message = _error(bootstrap_servers="b:9098", auth="iam", aws_region="us-east-1", tls="false")

    assert "KAFKA_TLS=false is invalid with KAFKA_AUTH=iam" in message


@pytest.mark.parametrize("text, expected", [("true", True), ("0", False), ("Off", False), ("", None)])
def test_tls_words(text, expected):
    assert KafkaSettings(bootstrap_servers="b:9094", tls=text).tls is expected


def test_invalid_tls():
    assert "KAFKA_TLS='maybe' is invalid: set it to true or false" in _error(bootstrap_servers="b:9094", tls="maybe")


def test_other_errors_name_variable():
    assert "KAFKA_CLIENT_ID:" in _error(bootstrap_servers="b:9094", client_id=5)
