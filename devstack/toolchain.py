"""Checks for the JDK, Maven and Node.js that the local stack runs on."""

from __future__ import annotations

import re
import shutil
import subprocess

from devstack.processes import StackError

_INSTALL_HINTS = {
    "java": "install a JDK 17 or newer (Debian: apt-get install openjdk-17-jdk-headless)",
    "mvn": "install Apache Maven (Debian: apt-get install maven)",
    "node": "install Node.js 20 or newer with npm (https://nodejs.org or your distribution's nodejs package)",
    "npm": "install npm, which ships with Node.js 20 or newer",
}


def require(tool: str, min_major: int | None = None) -> str:
    """Return the tool's path, or raise with what to install."""
    path = shutil.which(tool)
    if path is None:
        raise StackError(f"{tool} was not found on PATH; {_INSTALL_HINTS[tool]}")
    if min_major is not None:
        major = _major_version(tool, path)
        if major is not None and major < min_major:
            raise StackError(f"{tool} at {path} is version {major}, but {min_major} or newer is required; {_INSTALL_HINTS[tool]}")
    return path


def _major_version(tool: str, path: str) -> int | None:
    flag = "-version" if tool == "java" else "--version"
    result = subprocess.run([path, flag], capture_output=True, text=True, check=False)
    # java prints e.g. 'openjdk version "17.0.15"'; node prints 'v20.20.2'.
    match = re.search(r'(?:version "|^v)(\d+)', result.stdout + result.stderr, re.MULTILINE)
    return int(match.group(1)) if match else None
