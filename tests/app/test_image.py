"""The app image: metadata, start with PostgreSQL on a project network, health, clean SIGTERM."""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404 - the project's build script
import time
import uuid
from pathlib import Path

import docker
import pytest
import requests

from tests.support.postgres import (
    DATABASE,
    PASSWORD,
    USER,
    container_exited,
    postgres_container,
    postgres_name,
)
from tests.support.containers import inside_runner
from tests.support.app import loopback_container, service_address, wait_until
from tests.support.containers import image_tag

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def app_image() -> str:
    """The image under test: FINSIG_APP_IMAGE when the pipeline built it, else built (or found
    up to date) by the project's own script so the test never runs a stale image."""
    given = os.environ.get("FINSIG_APP_IMAGE")
    if given:
        return given
    result = subprocess.run(  # nosec B603 - fixed argv
        [str(ROOT / "scripts" / "build-app-image.sh")],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return image_tag("app")


def test_image_metadata(app_image: str) -> None:
    config = docker.from_env().images.get(app_image).attrs["Config"]
    assert config["User"] == "10001:10001"
    assert list(config["ExposedPorts"]) == ["8000/tcp"]
    assert "finsig.healthcheck" in config["Healthcheck"]["Test"]
    labels = config["Labels"]
    for key in ("title", "version", "revision", "created"):
        assert labels[f"org.opencontainers.image.{key}"], key
    assert labels["org.opencontainers.image.version"] == "0.1.0"
    assert "org.finsig.inputs" not in labels  # the input key is recorded beside the image


def test_starts_is_healthy_and_exits_0_on_sigterm(app_image: str, app_network: str) -> None:
    db_name = postgres_name()
    db = postgres_container(app_network, db_name)
    app_name = f"finsig-test-app-{uuid.uuid4().hex[:8]}"
    app = (
        loopback_container(app_image, {8000: None}, app_name)
        .with_env(
            "FINSIG_DATABASE_URL", f"postgresql://{USER}:{PASSWORD}@{db_name}:5432/{DATABASE}"
        )
        .with_kwargs(network=app_network)
    )
    try:
        db.start()
        app.start()
        wrapped = app.get_wrapped_container()
        published = 0 if inside_runner() else int(app.get_exposed_port(8000))
        host, port = service_address(app_name, 8000, published)

        def ready() -> bool:
            return requests.get(f"http://{host}:{port}/readyz", timeout=3).status_code == 200

        def gone() -> str | None:
            return container_exited(app) or container_exited(db)

        wait_until("the app's /readyz 200", ready, 90, abort=gone)

        def healthy() -> bool:
            wrapped.reload()
            return bool(wrapped.attrs["State"]["Health"]["Status"] == "healthy")

        wait_until("docker health status 'healthy'", healthy, 60, abort=gone)

        started = time.monotonic()
        wrapped.stop(timeout=30)  # docker would SIGKILL after 30 s; it must never come to that
        took = time.monotonic() - started
        wrapped.reload()
        assert wrapped.attrs["State"]["ExitCode"] == 0, wrapped.logs().decode()
        assert took < 10, f"stopping took {took:.1f}s"
        lines = [json.loads(line) for line in wrapped.logs().decode().splitlines() if line.strip()]
        assert any("Finished server process" in line["message"] for line in lines)
    finally:
        app.stop()
        db.stop()
