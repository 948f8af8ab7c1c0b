"""connection_options: PLAINTEXT against the real broker; SCRAM and MSK IAM option building without network.

AWS cannot be reached here. A botocore Stubber returns the Secrets Manager responses, and
the IAM tests replace the signer, so they check the wiring, not AWS itself.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading

import boto3
import pytest
from aiokafka.abc import AbstractTokenProvider
from aiokafka.admin import AIOKafkaAdminClient
from botocore.stub import Stubber

from kafka_client.security import CredentialsError, MSKIAMTokenProvider, clear_credentials_cache, connection_options
from kafka_client.settings import KafkaSettings

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_relay-AbCdEf"
PASSWORD = "s3cr3t-Pa55w0rd"


@pytest.fixture(autouse=True)
def empty_credentials_cache():
    clear_credentials_cache()
    yield
    clear_credentials_cache()


@pytest.fixture
def secrets_client():
    # Explicit dummy credentials: botocore then never looks for real ones.
    client = boto3.client("secretsmanager", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(client) as stubber:
        client.stubber = stubber
        yield client
        stubber.assert_no_pending_responses()


def _secret_response(secret: dict | str) -> dict:
    text = secret if isinstance(secret, str) else json.dumps(secret)
    return {"ARN": SECRET_ARN, "Name": "AmazonMSK_relay", "SecretString": text}


def _scram_settings() -> KafkaSettings:
    return KafkaSettings(bootstrap_servers="b-1.example:9096", auth="scram", scram_secret_arn=SECRET_ARN)


@pytest.mark.stack
async def test_plaintext_options_connect(stack):
    options = connection_options(KafkaSettings(bootstrap_servers=stack.bootstrap_servers))
    admin = AIOKafkaAdminClient(**options)

    await admin.start()
    try:
        topics = await admin.list_topics()
    finally:
        await admin.close()

    assert isinstance(topics, list)


def test_plaintext_options():
    options = connection_options(KafkaSettings(bootstrap_servers="127.0.0.1:19092", client_id="probe"))

    assert options == {"bootstrap_servers": "127.0.0.1:19092", "client_id": "probe", "security_protocol": "PLAINTEXT"}


def test_tls_without_auth():
    options = connection_options(KafkaSettings(bootstrap_servers="b-1.example:9094", tls=True))

    assert options["security_protocol"] == "SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_scram_options(secrets_client):
    secrets_client.stubber.add_response(
        "get_secret_value", _secret_response({"username": "relay", "password": PASSWORD}), {"SecretId": SECRET_ARN}
    )

    options = connection_options(_scram_settings(), secrets_client=secrets_client)

    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("relay", PASSWORD)
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_scram_secret_read_once(secrets_client):
    # One stubbed response: a second GetSecretValue call would fail the test.
    secrets_client.stubber.add_response(
        "get_secret_value", _secret_response({"username": "relay", "password": PASSWORD}), {"SecretId": SECRET_ARN}
    )

    first = connection_options(_scram_settings(), secrets_client=secrets_client)
    second = connection_options(_scram_settings(), secrets_client=secrets_client)

    assert second["sasl_plain_password"] == first["sasl_plain_password"]


def test_scram_repr_masks_password(secrets_client):
    secrets_client.stubber.add_response(
        "get_secret_value", _secret_response({"username": "relay", "password": PASSWORD}), {"SecretId": SECRET_ARN}
    )

    options = connection_options(_scram_settings(), secrets_client=secrets_client)

    assert PASSWORD not in repr(options)
    assert PASSWORD not in str(options)


def test_scram_plaintext_when_tls_off(secrets_client):
    secrets_client.stubber.add_response(
        "get_secret_value", _secret_response({"username": "relay", "password": PASSWORD}), {"SecretId": SECRET_ARN}
    )
    settings = KafkaSettings(bootstrap_servers="127.0.0.1:9096", auth="scram", scram_secret_arn=SECRET_ARN, tls=False)

    options = connection_options(settings, secrets_client=secrets_client)

    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert "ssl_context" not in options


def test_scram_secret_without_password(secrets_client):
    secrets_client.stubber.add_response("get_secret_value", _secret_response({"username": "relay"}), {"SecretId": SECRET_ARN})

    with pytest.raises(CredentialsError, match=f"{SECRET_ARN} has no non-empty password"):
        connection_options(_scram_settings(), secrets_client=secrets_client)


def test_scram_secret_not_json_hides_text(secrets_client):
    secrets_client.stubber.add_response("get_secret_value", _secret_response(f"relay:{PASSWORD}"), {"SecretId": SECRET_ARN})

    with pytest.raises(CredentialsError, match="is not valid JSON") as caught:
        connection_options(_scram_settings(), secrets_client=secrets_client)

    assert PASSWORD not in str(caught.value)


def test_scram_access_denied(secrets_client):
    secrets_client.stubber.add_client_error("get_secret_value", service_error_code="AccessDeniedException", http_status_code=400)

    with pytest.raises(CredentialsError, match="failed with AccessDeniedException.*secretsmanager:GetSecretValue"):
        connection_options(_scram_settings(), secrets_client=secrets_client)


def test_iam_options():
    options = connection_options(KafkaSettings(bootstrap_servers="b-1.example:9098", auth="iam", aws_region="us-east-1"))

    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "OAUTHBEARER"
    assert isinstance(options["sasl_oauth_token_provider"], AbstractTokenProvider)
    assert options["sasl_oauth_token_provider"].region == "us-east-1"


async def test_iam_token_signed_in_worker_thread():
    calls = []

    def signer(region: str) -> tuple[str, int]:
        calls.append((region, threading.get_ident()))
        return "signed-token", 4_102_444_800_000

    token = await MSKIAMTokenProvider("us-east-1", signer).token()

    assert token == "signed-token"
    assert calls[0][0] == "us-east-1"
    assert calls[0][1] != threading.get_ident()


async def test_iam_token_reused_until_near_expiry():
    now = [1_000.0]
    calls = []

    def signer(region: str) -> tuple[str, int]:
        calls.append(now[0])
        return f"token-{len(calls)}", int((now[0] + 900) * 1000)

    provider = MSKIAMTokenProvider("us-east-1", signer, clock=lambda: now[0])

    first = await provider.token()
    now[0] += 600
    second = await provider.token()
    now[0] += 250
    third = await provider.token()

    assert (first, second, third) == ("token-1", "token-1", "token-2")


async def test_iam_concurrent_token_requests_sign_once():
    calls = []

    def signer(region: str) -> tuple[str, int]:
        calls.append(region)
        return "token", 4_102_444_800_000

    provider = MSKIAMTokenProvider("us-east-1", signer)

    await asyncio.gather(*(provider.token() for _ in range(5)))

    assert len(calls) == 1


async def test_iam_default_signer_is_msk_library(monkeypatch):
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    calls = []

    def generate_auth_token(region, aws_debug_creds=False):
        calls.append(region)
        return "from-msk-signer", 4_102_444_800_000

    monkeypatch.setattr(MSKAuthTokenProvider, "generate_auth_token", generate_auth_token)
    provider = connection_options(KafkaSettings(bootstrap_servers="b-1.example:9098", auth="iam", aws_region="eu-central-1"))[
        "sasl_oauth_token_provider"
    ]

    assert await provider.token() == "from-msk-signer"
    assert calls == ["eu-central-1"]
