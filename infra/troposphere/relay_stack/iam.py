"""Builders for IAM policy documents, so that every statement names its resources."""

from __future__ import annotations

from typing import Any

from troposphere import AWSHelperFn

Resource = str | AWSHelperFn


def statement(actions: list[str], resources: list[Resource], sid: str | None = None, **extra: Any) -> dict:
    """Return an Allow statement with `extra` keys such as Condition."""
    body: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if sid:
        body["Sid"] = sid
    body.update(extra)
    return body


def policy_document(*statements: dict | AWSHelperFn) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def assume_role_policy(service: str, **condition: Any) -> dict:
    """Return a trust policy for one AWS service principal."""
    trust: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition:
        trust["Condition"] = condition
    return policy_document(trust)
