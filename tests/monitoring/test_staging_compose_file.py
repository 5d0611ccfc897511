"""docker-compose.staging.yml is valid Compose for people, and says what the staging stage reads.

Neither check needs a Docker engine: `docker-compose config` only reads the file (DOCKER_HOST is
pointed at nothing to prove it); check-jsonschema validates against the Compose Spec schema it
ships.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from finsig_runner.containers.compose import load_compose
from tests.support.compose_tools import ROOT, check_compose_schema, docker_compose_config

STAGING = ROOT / "docker-compose.staging.yml"

pytestmark = pytest.mark.timeout(60)


def test_docker_compose_config_accepts_the_file() -> None:
    result = docker_compose_config(STAGING, "-q")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr


def test_the_file_is_valid_against_the_compose_spec_schema() -> None:
    result = check_compose_schema(STAGING)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misspelt_key_fails_both_validators(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text("services:\n  app:\n    image: a:1\n    helthcheck: {test: x}\n")
    schema = check_compose_schema(broken)
    assert schema.returncode != 0
    assert "helthcheck" in schema.stdout
    compose = docker_compose_config(broken, "-q")
    assert compose.returncode != 0
    assert "helthcheck" in compose.stderr


@pytest.mark.parametrize("app_image", [None, "finsig/app:run-0001"])
def test_the_stage_reads_what_docker_compose_reads(app_image: str | None) -> None:
    """Our parser and docker-compose agree on every service, including the app image override."""
    env = {"FINSIG_APP_IMAGE": app_image} if app_image else {}
    result = docker_compose_config(STAGING, **env)
    assert result.returncode == 0, result.stderr
    normalized: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    project = load_compose(STAGING, env=env)

    assert set(normalized) == set(project.services)
    for name, service in project.services.items():
        theirs = normalized[name]
        assert service.image == theirs["image"]
        assert dict(service.environment) == {
            k: str(v) for k, v in theirs.get("environment", {}).items()
        }
        assert dict(service.labels) == theirs.get("labels", {})
        assert service.healthcheck is not None
        assert list(service.healthcheck.test) == theirs["healthcheck"]["test"]
        assert {d.service: d.condition.value for d in service.depends_on} == {
            dep: spec["condition"] for dep, spec in theirs.get("depends_on", {}).items()
        }
        assert [f"127.0.0.1::{p.container_port}/tcp" for p in service.ports] == theirs["ports"]
        mounts = [f"{v.volume}:{v.target}:rw" for v in service.volumes] + [
            f"{b.path}:{b.target}:ro" for b in service.binds
        ]
        assert sorted(mounts) == sorted(_normalize_mount(m) for m in theirs.get("volumes", []))
    assert project.services["app"].image == (app_image or "finsig/app:0.1.0")


def _normalize_mount(mount: str) -> str:
    return mount if mount.count(":") == 2 else f"{mount}:rw"
