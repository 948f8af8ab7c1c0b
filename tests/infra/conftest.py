"""Fixtures for the CloudFormation stack tests: build.py runs once per session
with --skip-lambda-package, so no test needs the network."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import cfn_flip
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "infra" / "build.py"
VENV_BIN = Path(sys.executable).parent


def load_build_module():
    spec = importlib.util.spec_from_file_location("infra_build", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tool():
    """Return a function that finds a console script installed next to this interpreter."""

    def find(name: str) -> str:
        path = VENV_BIN / name
        if not path.exists():
            pytest.fail(f"{name} not found in {VENV_BIN}. Install the dev extras: pip install -e '.[dev]'")
        return str(path)

    return find


@pytest.fixture(scope="session")
def offline_env() -> dict[str, str]:
    """Return an environment in which checkov skips its platform and update look-ups."""
    return {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def build():
    return load_build_module()


@pytest.fixture(scope="session")
def template_path(tmp_path_factory) -> Path:
    output_dir = tmp_path_factory.mktemp("build")
    # Run from another folder to check that build.py does not depend on the cwd.
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--skip-lambda-package", "--output-dir", str(output_dir)],
        cwd=output_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return output_dir / "cloudformation" / "relay.yaml"


@pytest.fixture(scope="session")
def template(template_path) -> dict:
    return cfn_flip.load_yaml(template_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def resources(template) -> dict:
    return template["Resources"]


@pytest.fixture(scope="session")
def of_type(resources):
    """Return a function that selects the template's resources of one type, by logical ID."""

    def select(resource_type: str) -> dict:
        return {name: body for name, body in resources.items() if body["Type"] == resource_type}

    return select
