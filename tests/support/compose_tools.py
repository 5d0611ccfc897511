"""The two validators of the project's compose files, as host tools installed by `make deps`:
Debian's docker-compose 1.29 (`config`) and check-jsonschema's built-in Compose Spec schema.
Both read files only; neither needs a Docker engine.
"""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404 - the validators under test
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def docker_compose_config(
    compose_file: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """`docker-compose -f FILE config ARGS` with the given variables and no engine behind it."""
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose (Debian's 1.29) is missing: run `make deps`"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FINSIG_APP")}
    environment.update(env, DOCKER_HOST="unix:///nonexistent/docker.sock")
    return subprocess.run(  # nosec B603 - fixed argv
        [binary, "-f", str(compose_file), "config", *args],
        capture_output=True, text=True, env=environment, cwd=ROOT, timeout=50, check=False,
    )


def check_compose_schema(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against the Compose Spec schema it ships (offline)."""
    checker = Path(sys.executable).with_name("check-jsonschema")
    assert checker.exists(), "check-jsonschema (dev tier) is missing: run `make deps`"
    return subprocess.run(  # nosec B603 - fixed argv
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True, text=True, timeout=50, check=False,
    )
