"""CloudWatch log groups: every one encrypted with the stack's key and kept for a set time."""

from __future__ import annotations

from troposphere import GetAtt, Ref, Sub, Template, logs

from .parameters import StackParameters


def add_log_group(
    template: Template,
    title: str,
    key_arn: GetAtt,
    p: StackParameters,
    name: str | Sub | None = None,
    condition: str | None = None,
) -> logs.LogGroup:
    """Add a KMS-encrypted log group with the stack's retention."""
    # Explicitly deleted with the stack: the retention period bounds how long
    # logs are kept anyway.
    group = logs.LogGroup(
        title,
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
        KmsKeyId=key_arn,
        RetentionInDays=Ref(p.log_retention_days),
    )
    if name is not None:
        group.LogGroupName = name
    if condition is not None:
        group.Condition = condition
    template.add_resource(group)
    return group


def log_streams_arn(group: logs.LogGroup) -> GetAtt:
    """Return the log group's `Arn` attribute, which ends in `:*` and so covers
    its log streams, where CreateLogStream and PutLogEvents are authorized."""
    return GetAtt(group, "Arn")
