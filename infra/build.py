"""Write the relay's CloudFormation template and package the producer Lambda.

Usage, from any directory:

    python infra/build.py [--output-dir DIR] [--architecture x86_64|arm64] [--skip-lambda-package]

writes DIR/cloudformation/relay.yaml and DIR/lambda/producer.zip (DIR defaults
to build/ in the repository root). Packaging downloads wheels with pip;
--skip-lambda-package writes only the template and needs no network.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

import structlog
from packaging.requirements import Requirement

INFRA_DIR = Path(__file__).resolve().parent
REPO_ROOT = INFRA_DIR.parent
# The stack's modules live in infra/troposphere/relay_stack. That folder has no
# __init__.py, so it never hides the troposphere library from imports.
STACK_DIR = INFRA_DIR / "troposphere"
if str(STACK_DIR) not in sys.path:
    sys.path.insert(0, str(STACK_DIR))

from relay_stack.appsync_sources import load_appsync_sources  # noqa: E402
from relay_stack.stack import build_template  # noqa: E402

log = structlog.get_logger("infra.build")

DEFAULT_OUTPUT_DIR = REPO_ROOT / "build"
SCHEMA_DIR = REPO_ROOT / "schema"
TEMPLATE_PATH = Path("cloudformation") / "relay.yaml"
LAMBDA_ZIP_PATH = Path("lambda") / "producer.zip"

# Repository folders that the producer Lambda imports.
LAMBDA_PACKAGE_DIRS = ("producer", "kafka_client")
# Third-party distributions the producer imports. Their versions come from pyproject.toml.
LAMBDA_DEPENDENCIES = (
    "aiokafka",
    "aws-msk-iam-sasl-signer-python",
    "structlog",
    "pydantic",
    "pydantic-settings",
)
LAMBDA_PYTHON_VERSION = "3.13"
# The python3.13 runtime runs on Amazon Linux 2023 (glibc 2.34), so wheels
# tagged manylinux2014 or manylinux_2_28 both load there.
PIP_PLATFORMS = {
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}
# A fixed timestamp makes the zip's bytes depend only on its content.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def render_template(schema_dir: Path = SCHEMA_DIR) -> str:
    """Return the stack template as YAML, with the AppSync files read from schema_dir."""
    return build_template(load_appsync_sources(schema_dir)).to_yaml()


def write_template(output_dir: Path, schema_dir: Path = SCHEMA_DIR) -> Path:
    path = output_dir / TEMPLATE_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_template(schema_dir), encoding="utf-8")
    return path


def lambda_requirements(pyproject_path: Path = REPO_ROOT / "pyproject.toml") -> list[str]:
    """Return the version specifiers of LAMBDA_DEPENDENCIES as pyproject.toml pins them."""
    declared = tomllib.loads(pyproject_path.read_text(encoding="utf-8"))["project"]["dependencies"]
    by_name = {Requirement(line).name.lower(): line for line in declared}
    missing = [name for name in LAMBDA_DEPENDENCIES if name not in by_name]
    if missing:
        raise ValueError(
            f"{pyproject_path} does not declare {missing}. Add them to [project].dependencies "
            "or remove them from LAMBDA_DEPENDENCIES in infra/build.py"
        )
    return [by_name[name] for name in LAMBDA_DEPENDENCIES]


def pip_install_command(target_dir: Path, requirements: list[str], architecture: str) -> list[str]:
    platforms = [arg for platform in PIP_PLATFORMS[architecture] for arg in ("--platform", platform)]
    return [
        sys.executable, "-m", "pip", "install", "--quiet",
        "--target", str(target_dir),
        *platforms,
        "--only-binary=:all:",
        "--implementation", "cp",
        "--python-version", LAMBDA_PYTHON_VERSION,
        # Byte code compiled by this interpreter would not match Lambda's Python.
        "--no-compile",
        # The target folder is a separate environment, so conflicts with the
        # packages of the interpreter that runs pip do not matter there.
        "--no-warn-conflicts",
        *requirements,
    ]


def _package_files(root: Path, base: Path) -> list[tuple[Path, str]]:
    """Return (file, name in the zip relative to base) pairs under root, without byte-code caches."""
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        files.append((path, path.relative_to(base).as_posix()))
    return files


def write_lambda_zip(zip_path: Path, package_dirs: list[Path], dependencies_dir: Path) -> Path:
    """Write a reproducible zip: dependencies and package folders at its root."""
    entries: dict[str, Path] = {}
    for path, name in _package_files(dependencies_dir, dependencies_dir):
        # bin/ contains console scripts for the interpreter that ran pip, which Lambda never runs.
        if not name.startswith("bin/"):
            entries[name] = path
    for package_dir in package_dirs:
        if not package_dir.is_dir():
            raise FileNotFoundError(f"Lambda package folder {package_dir} not found. Run build.py from a full checkout")
        for path, name in _package_files(package_dir, package_dir.parent):
            entries[name] = path

    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name].read_bytes())
    return zip_path


def package_producer_lambda(output_dir: Path, architecture: str) -> Path:
    with tempfile.TemporaryDirectory(prefix="producer-deps-") as temp:
        dependencies_dir = Path(temp) / "python"
        command = pip_install_command(dependencies_dir, lambda_requirements(), architecture)
        requirements = command[-len(LAMBDA_DEPENDENCIES):]
        log.info("lambda_dependencies_install", architecture=architecture, requirements=requirements)
        subprocess.run(command, check=True)
        return write_lambda_zip(
            output_dir / LAMBDA_ZIP_PATH,
            [REPO_ROOT / name for name in LAMBDA_PACKAGE_DIRS],
            dependencies_dir,
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR,
        help=f"folder to write cloudformation/ and lambda/ into (default: {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument(
        "--architecture", choices=sorted(PIP_PLATFORMS), default="x86_64",
        help="CPU architecture of the producer Lambda's wheels, the same as the CpuArchitecture parameter",
    )
    parser.add_argument(
        "--skip-lambda-package", action="store_true",
        help="write only the template and skip pip, which needs network access",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    output_dir = args.output_dir.resolve()
    template_path = write_template(output_dir)
    log.info("template_written", path=str(template_path))
    if args.skip_lambda_package:
        log.info("lambda_package_skipped")
        return 0
    zip_path = package_producer_lambda(output_dir, args.architecture)
    log.info("lambda_package_written", path=str(zip_path), bytes=zip_path.stat().st_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
