"""Static checks of the service image's Dockerfile (no Docker engine runs here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"


def hadolint() -> str:
    return shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")


def test_hadolint_clean():
    result = subprocess.run([hadolint(), str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_runs_as_non_root():
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_healthcheck_uses_healthz():
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", DOCKERFILE.read_text(), re.MULTILINE)


def test_entrypoint_is_service():
    assert 'ENTRYPOINT ["python", "-m", "service"]' in DOCKERFILE.read_text()


def test_multi_stage():
    assert len(re.findall(r"^FROM ", DOCKERFILE.read_text(), re.MULTILINE)) >= 2
