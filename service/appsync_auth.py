"""Authentication of mutation requests: an AppSync API key or IAM (SigV4)."""

from __future__ import annotations

import asyncio
import json
from typing import Protocol
from urllib.parse import urlparse

import structlog

from service.errors import ConfigurationError
from service.settings import RelaySettings

log = structlog.get_logger(__name__)


class RequestSigner(Protocol):
    async def headers(self, url: str, body: bytes) -> dict[str, str]: ...


class ApiKeyAuth:
    """Send the API key in x-api-key. A key from Secrets Manager is fetched once and cached."""

    def __init__(self, api_key: str | None = None, secret_arn: str | None = None, region: str | None = None):
        self._api_key = api_key
        self._secret_arn = secret_arn
        self._region = region
        self._lock = asyncio.Lock()

    async def headers(self, url: str, body: bytes) -> dict[str, str]:
        if self._api_key is None:
            async with self._lock:
                if self._api_key is None:
                    self._api_key = await asyncio.to_thread(self._fetch_secret)
        return {"x-api-key": self._api_key}

    def _fetch_secret(self) -> str:
        import boto3

        client = boto3.client("secretsmanager", region_name=self._region)
        secret = client.get_secret_value(SecretId=self._secret_arn)["SecretString"]
        log.info("appsync api key fetched", secret_arn=self._secret_arn)
        # The secret is either the key itself or a JSON object with an apiKey field.
        if secret.lstrip().startswith("{"):
            try:
                return json.loads(secret)["apiKey"]
            except (json.JSONDecodeError, KeyError):
                raise ConfigurationError(
                    f"secret {self._secret_arn} is a JSON object without an apiKey field; store the key itself or {{\"apiKey\": \"...\"}}"
                ) from None
        return secret.strip()


class IamAuth:
    """Sign each request with SigV4, using botocore's credentials, which rotate on ECS."""

    def __init__(self, region: str | None):
        import botocore.session

        self._session = botocore.session.get_session()
        self._region = region or self._session.get_config_variable("region")
        if not self._region:
            raise ConfigurationError("IAM auth needs a region; set RELAY_APPSYNC_REGION or AWS_REGION")

    async def headers(self, url: str, body: bytes) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = self._session.get_credentials()
        if credentials is None:
            raise ConfigurationError("IAM auth found no AWS credentials; give the task a role or set AWS credentials")
        request = AWSRequest(
            method="POST", url=url, data=body,
            headers={"content-type": "application/json", "host": urlparse(url).netloc},
        )
        SigV4Auth(credentials.get_frozen_credentials(), "appsync", self._region).add_auth(request)
        return {name: value for name, value in request.headers.items() if name.lower() != "content-type"}


def build_auth(settings: RelaySettings) -> RequestSigner:
    if settings.appsync_auth == "iam":
        return IamAuth(settings.appsync_region)
    api_key = settings.appsync_api_key.get_secret_value() if settings.appsync_api_key else None
    return ApiKeyAuth(api_key=api_key, secret_arn=settings.appsync_api_key_secret_arn, region=settings.appsync_region)
