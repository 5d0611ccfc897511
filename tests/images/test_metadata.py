"""Every service image: non-root, tagged with the project version (no `latest`), OCI labels, and
its input key recorded beside it (a second tag), not in it."""

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
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", labels["org.opencontainers.image.revision"])
    created = labels["org.opencontainers.image.created"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", created), created
    assert not [t for t in image.tags if t.endswith(":latest")], image.tags
    assert "org.finsig.inputs" not in labels  # nothing that changes per recipe edit in the config
    record = re.compile(rf"{re.escape(image_tag(name))}-inputs-[0-9a-f]{{12}}")
    records = [tag for tag in image.tags if record.fullmatch(tag)]
    assert len(records) == 1, f"{image.tags}: no input record beside {image_tag(name)}"
