"""Connection settings for Kafka (Amazon MSK or a local broker), read from KAFKA_* variables."""

from __future__ import annotations

import os
import re
from typing import Any, Literal

from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

AuthMode = Literal["none", "scram", "iam"]

_AUTH_MODES = ("none", "scram", "iam")
_TRUE_WORDS = {"1", "true", "yes", "on"}
_FALSE_WORDS = {"0", "false", "no", "off"}
# arn:<partition>:secretsmanager:<region>:<account>:secret:<name>
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):\d{12}:secret:.+$")
_SERVER_EXAMPLE = "b-1.mycluster.abc123.c2.kafka.us-east-1.amazonaws.com:9098"


class KafkaSettings(BaseSettings):
    """How to reach the brokers; each field is the environment variable KAFKA_<FIELD>.

    The settings contain no secret: the SCRAM password stays in Secrets Manager
    until kafka_client.security fetches it.
    """

    model_config = SettingsConfigDict(env_prefix="KAFKA_", frozen=True, extra="ignore")

    bootstrap_servers: str
    auth: AuthMode = "none"
    scram_secret_arn: str | None = None
    tls: bool | None = None
    aws_region: str | None = None
    client_id: str = "kafka-appsync-relay"

    @model_validator(mode="before")
    @classmethod
    def _require_bootstrap_servers(cls, data: Any) -> Any:
        if isinstance(data, dict) and not str(data.get("bootstrap_servers") or "").strip():
            raise ValueError(
                "KAFKA_BOOTSTRAP_SERVERS is missing: set it to the brokers' comma-separated host:port list, "
                f"e.g. {_SERVER_EXAMPLE} for MSK or 127.0.0.1:19092 for the local stack"
            )
        return data

    @field_validator("bootstrap_servers")
    @classmethod
    def _check_bootstrap_servers(cls, value: str) -> str:
        servers = [server.strip() for server in value.split(",") if server.strip()]
        for server in servers:
            host, _, port = server.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(
                    f"KAFKA_BOOTSTRAP_SERVERS entry {server!r} is invalid: each entry must be host:port "
                    f"with a port from 1 to 65535, e.g. {_SERVER_EXAMPLE}"
                )
        return ",".join(servers)

    @field_validator("auth", mode="before")
    @classmethod
    def _check_auth(cls, value: Any) -> Any:
        text = str(value).strip().lower()
        if text not in _AUTH_MODES:
            raise ValueError(f"KAFKA_AUTH={value!r} is invalid: set it to none, scram or iam")
        return text

    @field_validator("tls", mode="before")
    @classmethod
    def _check_tls(cls, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text == "":
            return None
        if text in _TRUE_WORDS:
            return True
        if text in _FALSE_WORDS:
            return False
        raise ValueError(f"KAFKA_TLS={value!r} is invalid: set it to true or false, or leave it unset for the default")

    @field_validator("aws_region", mode="before")
    @classmethod
    def _default_region(cls, value: Any) -> Any:
        # The AWS SDKs and the Lambda runtime publish the region in these variables.
        if value is None or str(value).strip() == "":
            return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
        return str(value).strip()

    @model_validator(mode="after")
    def _check_auth_requirements(self) -> KafkaSettings:
        if self.auth == "scram":
            if not self.scram_secret_arn:
                raise ValueError(
                    "KAFKA_SCRAM_SECRET_ARN is missing: KAFKA_AUTH=scram needs the ARN of the Secrets Manager secret "
                    "that contains the SCRAM username and password (MSK requires its name to start with AmazonMSK_)"
                )
            if not _SECRET_ARN.match(self.scram_secret_arn):
                raise ValueError(
                    f"KAFKA_SCRAM_SECRET_ARN={self.scram_secret_arn!r} is not a Secrets Manager secret ARN: "
                    "expected arn:aws:secretsmanager:<region>:<account>:secret:<name>"
                )
        if self.auth == "iam":
            if not self.aws_region:
                raise ValueError(
                    "KAFKA_AWS_REGION is missing: KAFKA_AUTH=iam signs its tokens for the cluster's region; "
                    "set KAFKA_AWS_REGION or AWS_REGION, e.g. us-east-1"
                )
            if self.tls is False:
                raise ValueError(
                    "KAFKA_TLS=false is invalid with KAFKA_AUTH=iam: MSK accepts IAM authentication only over TLS; unset KAFKA_TLS"
                )
        return self

    @property
    def use_tls(self) -> bool:
        """Whether to connect over TLS: KAFKA_TLS if set, else on for scram and iam."""
        if self.tls is not None:
            return self.tls
        return self.auth != "none"

    @property
    def secrets_region(self) -> str | None:
        """The region of the SCRAM secret, taken from its ARN because Secrets Manager serves a secret only there."""
        match = _SECRET_ARN.match(self.scram_secret_arn or "")
        return match.group("region") if match else None


def describe_settings_error(error: ValidationError, prefix: str = "KAFKA_") -> str:
    """Return one line per problem of a settings ValidationError, each naming its environment variable."""
    lines = []
    for problem in error.errors():
        message = problem["msg"].removeprefix("Value error, ")
        location = [str(part) for part in problem["loc"]]
        # Messages from this module's validators already name the variable.
        if location and prefix not in message:
            message = f"{prefix}{location[0].upper()}: {message}"
        lines.append(message)
    return "invalid Kafka settings:\n  " + "\n  ".join(lines)
