"""docker-compose.yml: valid for Compose v1.29 and the Compose Spec, loopback-only, health-gated."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support.compose_tools import ROOT, check_compose_schema, docker_compose_config

COMPOSE = ROOT / "docker-compose.yml"
pytestmark = pytest.mark.timeout(60)


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_valid_against_the_compose_spec_schema() -> None:
    result = check_compose_schema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_accepts_it() -> None:
    result = docker_compose_config(COMPOSE, "--quiet")
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
