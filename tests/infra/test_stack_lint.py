"""cfn-lint and checkov over the built template."""

from __future__ import annotations

import json
import subprocess

import pytest


@pytest.fixture(scope="module")
def cfn_lint_config(repo_root):
    return repo_root / "infra" / ".cfnlintrc"


@pytest.fixture(scope="module")
def cfn_lint_result(template_path, cfn_lint_config, tool):
    return subprocess.run(
        [tool("cfn-lint"), "--config-file", str(cfn_lint_config), "--", str(template_path)],
        capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def checkov_result(template_path, tool, offline_env):
    # --skip-download and offline_env keep checkov from calling its platform
    # API. Without --quiet the JSON report also lists passed and skipped checks.
    return subprocess.run(
        [
            tool("checkov"), "-f", str(template_path), "--framework", "cloudformation",
            "--compact", "--skip-download", "--output", "json",
        ],
        capture_output=True, text=True, timeout=300, env=offline_env,
    )


@pytest.fixture(scope="module")
def checkov_report(checkov_result) -> dict:
    return json.loads(checkov_result.stdout)


def _list_items_under(lines: list[str], key: str) -> list[int]:
    """Return the line indexes of the list items under a top-level YAML key."""
    items, inside = [], False
    for index, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            inside = True
        elif inside and line.strip().startswith("- "):
            items.append(index)
        elif inside and line and not line.startswith((" ", "#")):
            inside = False
    return items


def test_cfn_lint_exit_status(cfn_lint_result):
    assert cfn_lint_result.returncode == 0, cfn_lint_result.stdout + cfn_lint_result.stderr


def test_cfn_lint_reports_nothing(cfn_lint_result):
    assert cfn_lint_result.stdout.strip() == ""


def test_cfn_lint_ignores_carry_reasons(cfn_lint_config):
    lines = cfn_lint_config.read_text(encoding="utf-8").splitlines()
    for index in _list_items_under(lines, "ignore_checks"):
        assert lines[index - 1].strip().startswith("#"), f"no reason comment above {lines[index]!r}"


def test_checkov_exit_status(checkov_result):
    assert checkov_result.returncode == 0, checkov_result.stdout[-4000:] + checkov_result.stderr[-2000:]


def test_checkov_no_failed_checks(checkov_report):
    failed = [(c["check_id"], c["resource"]) for c in checkov_report["results"]["failed_checks"]]
    assert failed == []


def test_checkov_ran_checks(checkov_report):
    assert checkov_report["summary"]["passed"] > 100


def test_checkov_skips_carry_reasons(checkov_report):
    skipped = checkov_report["results"]["skipped_checks"]
    without_reason = [
        (c["check_id"], c["resource"]) for c in skipped if not c["check_result"].get("suppress_comment")
    ]
    assert without_reason == []


def test_checkov_skip_metadata_has_comments(resources):
    for name, body in resources.items():
        for skip in body.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip["comment"]) > 20, f"{name} skips {skip['id']} without a reason"
