"""Checkov skip annotations: each skipped check carries the reason it does not apply."""

from __future__ import annotations

from troposphere import AWSObject


def skip_checkov(resource: AWSObject, *checks: tuple[str, str]) -> AWSObject:
    """Record (check id, reason) pairs in the resource's Metadata, where checkov reads them."""
    metadata = dict(getattr(resource, "Metadata", None) or {})
    skips = list(metadata.get("checkov", {}).get("skip", []))
    skips.extend({"id": check_id, "comment": reason} for check_id, reason in checks)
    metadata["checkov"] = {"skip": skips}
    resource.Metadata = metadata
    return resource
