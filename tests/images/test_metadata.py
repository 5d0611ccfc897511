"""Every service image: non-root, tagged with the project version (no `latest`), OCI labels."""

from __future__ import annotations

import re

import docker
import pytest

from finsig import __version__
from tests.support.containers import image_tag

pytestmark = [pytest.mark.docker, pytest.mark.timeout(60)]

SERVICES = ["postgres", "prometheus", "postgres-exporter", "node-exporter", "alertmanager"]


@pytest.mark.parametrize("name", SERVICES)
def test_service_image_metadata(name: str) -> None:
    image = docker.from_env().images.get(image_tag(name))
    config = image.attrs["Config"]
    assert config["User"] not in ("", "root", "0", "0:0"), f"{name} runs as root"
    labels = config["Labels"]
    assert labels["org.opencontainers.image.title"] == f"finsig-{name}"
    assert labels["org.opencontainers.image.version"] == __version__
    assert re.fullmatch(r"[0-9a-f]{40}", labels["org.opencontainers.image.revision"])
    created = labels["org.opencontainers.image.created"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created), created
    assert not [t for t in image.tags if t.endswith(":latest")], image.tags
