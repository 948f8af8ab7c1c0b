"""infra/build.py: output paths, Lambda requirements and the zip writer."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest
from packaging.requirements import Requirement


def _make_tree(root, files: dict[str, bytes]):
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


@pytest.fixture
def lambda_sources(tmp_path):
    repo = _make_tree(tmp_path / "repo", {
        "producer/__init__.py": b"",
        "producer/lambda_handler.py": b"def handler(event, context):\n    return None\n",
        "producer/__pycache__/lambda_handler.cpython-313.pyc": b"stale",
        "kafka_client/__init__.py": b"",
    })
    deps = _make_tree(tmp_path / "deps", {
        "aiokafka/__init__.py": b"",
        "aiokafka-0.12.0.dist-info/METADATA": b"Name: aiokafka\n",
    })
    return [repo / "producer", repo / "kafka_client"], deps


def test_template_written(template_path):
    assert template_path.is_file()


def test_template_within_size_limit(template_path):
    # CloudFormation accepts templates of up to 1 MB from S3.
    assert template_path.stat().st_size < 1_000_000


def test_help_lists_skip_flag(repo_root):
    result = subprocess.run(
        [sys.executable, str(repo_root / "infra" / "build.py"), "--help"],
        capture_output=True, text=True, timeout=60,
    )
    assert "--skip-lambda-package" in result.stdout


def test_lambda_requirements_from_pyproject(build):
    requirements = build.lambda_requirements()
    assert [Requirement(r).name for r in requirements] == list(build.LAMBDA_DEPENDENCIES)


def test_lambda_requirement_missing(build, tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["structlog>=24.1"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="aiokafka"):
        build.lambda_requirements(pyproject)


def test_pip_command_x86_platform(build, tmp_path):
    command = build.pip_install_command(tmp_path, ["structlog"], "x86_64")
    assert "manylinux2014_x86_64" in command


def test_pip_command_arm_platform(build, tmp_path):
    command = build.pip_install_command(tmp_path, ["structlog"], "arm64")
    assert "manylinux2014_aarch64" in command


def test_pip_command_lambda_python(build, tmp_path):
    command = build.pip_install_command(tmp_path, ["structlog"], "x86_64")
    assert command[command.index("--python-version") + 1] == "3.13"


def test_pip_command_binary_only(build, tmp_path):
    assert "--only-binary=:all:" in build.pip_install_command(tmp_path, ["structlog"], "x86_64")


def test_zip_contents(build, tmp_path, lambda_sources):
    package_dirs, deps = lambda_sources
    path = build.write_lambda_zip(tmp_path / "out" / "producer.zip", package_dirs, deps)
    assert zipfile.ZipFile(path).namelist() == [
        "aiokafka-0.12.0.dist-info/METADATA",
        "aiokafka/__init__.py",
        "kafka_client/__init__.py",
        "producer/__init__.py",
        "producer/lambda_handler.py",
    ]


def test_zip_reproducible(build, tmp_path, lambda_sources):
    package_dirs, deps = lambda_sources
    first = build.write_lambda_zip(tmp_path / "a.zip", package_dirs, deps).read_bytes()
    second = build.write_lambda_zip(tmp_path / "b.zip", package_dirs, deps).read_bytes()
    assert first == second


def test_zip_missing_package_folder(build, tmp_path, lambda_sources):
    _, deps = lambda_sources
    with pytest.raises(FileNotFoundError, match="kafka_client"):
        build.write_lambda_zip(tmp_path / "c.zip", [tmp_path / "kafka_client"], deps)
