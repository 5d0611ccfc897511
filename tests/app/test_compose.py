"""docker-compose.yml: valid for Compose v1.29 and the Compose Spec, loopback-only, health-gated."""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404 - the validators under test
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # nosec B603 - fixed argv
        argv, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_valid_against_the_compose_spec_schema() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    if not checker.exists():  # inside the runner image only the ci tier is installed
        pytest.skip("check-jsonschema (dev tier) is not installed in this environment")
    result = _run([str(checker), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.docker
def test_docker_compose_accepts_it() -> None:
    compose = shutil.which("docker-compose")
    if not compose and os.environ.get("FINSIG_RUNNER_NETWORK"):  # inside the runner image
        pytest.skip("docker-compose (Debian's 1.29, a host tool) is not in the runner image")
    assert compose, "docker-compose (Debian's 1.29) is needed to validate docker-compose.yml"
    result = _run([compose, "--file", str(COMPOSE), "config", "--quiet"])
    assert result.returncode == 0, result.stderr


def test_services_images_health_and_loopback_ports() -> None:
    services = _compose()["services"]
    assert {name: s["image"] for name, s in services.items()} == {
        "postgres": "finsig/postgres:0.1.0",
        "app": "finsig/app:0.1.0",
    }
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] == "CMD", name
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
    assert services["app"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "pgdata" in _compose()["volumes"]
    assert services["postgres"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]
