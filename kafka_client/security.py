"""Build aiokafka connection options for PLAINTEXT, SCRAM (Secrets Manager) and MSK IAM.

The options dict fits AIOKafkaConsumer, AIOKafkaProducer and AIOKafkaAdminClient
alike. boto3 is called only for scram (one GetSecretValue per secret ARN, cached
for the life of the process) and, through the MSK signer, for iam.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import structlog
from aiokafka.abc import AbstractTokenProvider
from aiokafka.helpers import create_ssl_context
from pydantic import SecretStr

from kafka_client.settings import KafkaSettings

log = structlog.get_logger(__name__)

# MSK supports SCRAM-SHA-512 only.
SCRAM_MECHANISM = "SCRAM-SHA-512"
IAM_MECHANISM = "OAUTHBEARER"
# Sign a new token this long before the current one expires, so that a
# connection opened just before expiry still authenticates. MSK IAM tokens
# from aws-msk-iam-sasl-signer-python 1.0 are valid for 15 minutes.
TOKEN_REFRESH_MARGIN_S = 60.0

_MASK = "**********"


class CredentialsError(RuntimeError):
    """The SCRAM secret could not be read or does not contain a username and password."""


@dataclass(frozen=True)
class ScramCredentials:
    username: str
    password: SecretStr


class ConnectionOptions(dict):
    """Keyword arguments for the aiokafka clients; the repr masks the SASL password."""

    def __repr__(self) -> str:
        masked = {name: (_MASK if name == "sasl_plain_password" and value else value) for name, value in self.items()}
        return f"ConnectionOptions({masked!r})"

    __str__ = __repr__


TokenSigner = Callable[[str], tuple[str, int]]


def _msk_signer(region: str) -> tuple[str, int]:
    # Imported here so that PLAINTEXT and SCRAM users never load the signer.
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    return MSKAuthTokenProvider.generate_auth_token(region)


class MSKIAMTokenProvider(AbstractTokenProvider):
    """OAUTHBEARER token provider for MSK IAM, reusing each token until shortly before it expires.

    The signer reads AWS credentials (possibly over the network, from the
    instance or task metadata endpoint), so it runs in a worker thread to keep
    the event loop free.
    """

    def __init__(self, region: str, signer: TokenSigner = _msk_signer, *, clock: Callable[[], float] = time.time):
        self.region = region
        self._signer = signer
        self._clock = clock
        self._token: str | None = None
        self._expires_at_s = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or self._clock() >= self._expires_at_s - TOKEN_REFRESH_MARGIN_S:
                token, expiry_ms = await asyncio.to_thread(self._signer, self.region)
                self._token = token
                self._expires_at_s = expiry_ms / 1000
                log.debug("msk_iam_token_signed", region=self.region, expires_at_ms=expiry_ms)
            return self._token

    def __repr__(self) -> str:
        return f"MSKIAMTokenProvider(region={self.region!r})"


_credentials_cache: dict[str, ScramCredentials] = {}
_credentials_lock = threading.Lock()


def fetch_scram_credentials(secret_arn: str, region: str | None, *, secrets_client: Any = None) -> ScramCredentials:
    """Read the SCRAM username and password from Secrets Manager, once per ARN.

    The secret's string must be JSON with `username` and `password`, the layout
    that MSK requires for SCRAM secrets. Raises CredentialsError naming the ARN.
    """
    with _credentials_lock:
        cached = _credentials_cache.get(secret_arn)
        if cached is not None:
            return cached
        client = secrets_client or _secrets_manager_client(region)
        credentials = _read_secret(client, secret_arn)
        _credentials_cache[secret_arn] = credentials
        log.info("kafka_scram_secret_loaded", secret_arn=secret_arn, username=credentials.username)
        return credentials


def clear_credentials_cache() -> None:
    """Forget cached SCRAM credentials, so that the next call reads the secret again (after a rotation)."""
    with _credentials_lock:
        _credentials_cache.clear()


def connection_options(settings: KafkaSettings, *, secrets_client: Any = None) -> ConnectionOptions:
    """Return the connection keyword arguments for AIOKafkaConsumer, AIOKafkaProducer and AIOKafkaAdminClient.

    For scram this blocks on one Secrets Manager call the first time per secret,
    so call it at start-up, before the event loop is busy. `secrets_client` is a
    boto3 Secrets Manager client to use in place of a new one.
    """
    options = ConnectionOptions(bootstrap_servers=settings.bootstrap_servers, client_id=settings.client_id)

    if settings.auth == "none":
        options["security_protocol"] = "SSL" if settings.use_tls else "PLAINTEXT"
    else:
        options["security_protocol"] = "SASL_SSL" if settings.use_tls else "SASL_PLAINTEXT"

    if settings.auth == "scram":
        credentials = fetch_scram_credentials(settings.scram_secret_arn, settings.secrets_region, secrets_client=secrets_client)
        options["sasl_mechanism"] = SCRAM_MECHANISM
        options["sasl_plain_username"] = credentials.username
        options["sasl_plain_password"] = credentials.password.get_secret_value()
    elif settings.auth == "iam":
        options["sasl_mechanism"] = IAM_MECHANISM
        options["sasl_oauth_token_provider"] = MSKIAMTokenProvider(settings.aws_region)

    if settings.use_tls:
        # The system trust store: MSK's broker certificates chain to Amazon's public CAs.
        options["ssl_context"] = create_ssl_context()
    return options


def _secrets_manager_client(region: str | None) -> Any:
    import boto3

    return boto3.client("secretsmanager", region_name=region)


def _read_secret(client: Any, secret_arn: str) -> ScramCredentials:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.get_secret_value(SecretId=secret_arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "unknown")
        raise CredentialsError(
            f"reading the SCRAM secret {secret_arn} failed with {code}: check KAFKA_SCRAM_SECRET_ARN and that this role "
            "may call secretsmanager:GetSecretValue on it and kms:Decrypt on its key"
        ) from error
    except BotoCoreError as error:
        raise CredentialsError(f"reading the SCRAM secret {secret_arn} failed: {error}") from error

    secret_text = response.get("SecretString")
    if secret_text is None:
        raise CredentialsError(f"the SCRAM secret {secret_arn} has no SecretString: store it as JSON text with username and password")
    try:
        secret = json.loads(secret_text)
    except json.JSONDecodeError:
        # The error message would quote the secret, so it is not chained.
        raise CredentialsError(f'the SCRAM secret {secret_arn} is not valid JSON: store {{"username": ..., "password": ...}}') from None
    if not isinstance(secret, dict):
        raise CredentialsError(f'the SCRAM secret {secret_arn} is not a JSON object: store {{"username": ..., "password": ...}}')

    missing = [name for name in ("username", "password") if not isinstance(secret.get(name), str) or not secret.get(name)]
    if missing:
        raise CredentialsError(f"the SCRAM secret {secret_arn} has no non-empty {' or '.join(missing)}: MSK SCRAM secrets need both")
    return ScramCredentials(username=secret["username"], password=SecretStr(secret["password"]))
