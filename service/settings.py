"""Settings of the relay service, read once from environment variables."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.errors import ConfigurationError

# AppSync rejects a subscription payload over 240 KB.
APPSYNC_PAYLOAD_LIMIT_BYTES = 240 * 1024


class RelaySettings(BaseSettings):
    """Relay options; each field is the environment variable RELAY_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix="RELAY_", frozen=True, extra="ignore")

    topics: str | None = Field(default=None, description="comma-separated topics to consume")
    topic_pattern: str | None = Field(default=None, description="regular expression of topics to consume, instead of RELAY_TOPICS")
    group_id: str = "kafka-appsync-relay"
    dead_letter_topic: str = "ticks.dlq"

    ordering: Literal["partition", "key"] = "partition"
    key_lanes: int = Field(default=8, ge=1, le=256, description="parallel lanes per partition when ordering=key")
    channel_from: Literal["key", "topic", "field"] = "key"
    channel_field: str = "symbol"

    appsync_url: str
    appsync_auth: Literal["api_key", "iam"] = "api_key"
    appsync_api_key: SecretStr | None = None
    appsync_api_key_secret_arn: str | None = None
    appsync_region: str | None = None

    batch_max_records: int = Field(default=50, ge=1, le=500)
    # NOTE: 1 MB per request is an estimate; the AppSync quota pages consulted
    # here did not state a request body limit for GraphQL mutations.
    batch_max_bytes: int = Field(default=1_000_000, ge=APPSYNC_PAYLOAD_LIMIT_BYTES)
    # 0 still batches under load, because a lane's queue fills while its
    # request is in flight; a linger only adds latency at low rates.
    batch_linger_ms: int = Field(default=0, ge=0, le=10_000)
    http_connections: int = Field(default=32, ge=1, le=1024)
    http_timeout_s: float = Field(default=10.0, gt=0)

    queue_max_records: int = Field(default=2_000, ge=1, description="records buffered per partition before it is paused")
    fetch_max_partition_bytes: int = Field(default=1_048_576, ge=1024, description="bytes one fetch returns per partition")
    commit_interval_s: float = Field(default=1.0, gt=0)
    retry_base_s: float = Field(default=0.1, gt=0)
    retry_max_s: float = Field(default=10.0, gt=0)
    auth_retry_s: float = Field(default=30.0, gt=0, description="wait between retries after a 401 or 403")
    drain_budget_s: float = Field(default=20.0, ge=0)
    revoke_budget_s: float = Field(default=10.0, ge=0)
    stall_timeout_s: float = Field(default=120.0, gt=0, description="/healthz turns red when a lagging partition makes no progress this long")

    ops_host: str = "0.0.0.0"
    ops_port: int = Field(default=8080, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"

    @model_validator(mode="after")
    def _check_combinations(self) -> RelaySettings:
        if bool(self.topics) == bool(self.topic_pattern):
            raise ValueError("set exactly one of RELAY_TOPICS (comma-separated names) or RELAY_TOPIC_PATTERN (a regular expression)")
        if self.topic_pattern:
            try:
                re.compile(self.topic_pattern)
            except re.error as error:
                raise ValueError(f"RELAY_TOPIC_PATTERN={self.topic_pattern!r} is not a valid regular expression: {error}") from None
        if self.appsync_auth == "api_key" and not (self.appsync_api_key or self.appsync_api_key_secret_arn):
            raise ValueError(
                "RELAY_APPSYNC_AUTH=api_key needs RELAY_APPSYNC_API_KEY or RELAY_APPSYNC_API_KEY_SECRET_ARN; "
                "set one, or set RELAY_APPSYNC_AUTH=iam"
            )
        if not self.appsync_url.startswith(("http://", "https://")):
            raise ValueError(f"RELAY_APPSYNC_URL={self.appsync_url!r} must be the GraphQL endpoint URL: https://... for AppSync, http://... for a local simulator")
        if self.retry_max_s < self.retry_base_s:
            raise ValueError("RELAY_RETRY_MAX_S must be at least RELAY_RETRY_BASE_S")
        return self

    @property
    def topic_list(self) -> list[str]:
        return [topic.strip() for topic in (self.topics or "").split(",") if topic.strip()]

    def masked(self) -> dict:
        """Return the settings for the start-up log, with secrets masked."""
        return {name: ("**********" if isinstance(value, SecretStr) else value) for name, value in self}


def load_settings() -> RelaySettings:
    """Read the settings, raising ConfigurationError that names each bad variable."""
    try:
        return RelaySettings()
    except ValidationError as error:
        raise ConfigurationError(describe_validation_error(error, "RELAY_")) from None


def describe_validation_error(error: ValidationError, prefix: str) -> str:
    lines = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        message = problem["msg"].removeprefix("Value error, ")
        if location:
            lines.append(f"{prefix}{location[0].upper()}: {message}")
        else:
            lines.append(message)
    return "invalid settings:\n  " + "\n  ".join(lines)
