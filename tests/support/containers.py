"""Containers for tests: labelled with the test session, ports published on 127.0.0.1 only.

Every container or network a test makes goes through here, so the session's final sweep
(tests/conftest.py) can remove whatever a failing test left behind.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import docker
from testcontainers.core.container import DockerContainer

SESSION_LABEL = "finsig.test-session"
SESSION_ID = os.environ.get("FINSIG_TEST_SESSION", uuid.uuid4().hex[:12])
LABELS = {SESSION_LABEL: SESSION_ID, "finsig.owner": "tests"}


def image_tag(name: str) -> str:
    """The project's tag for one of its images: image_tag("postgres") -> "finsig/postgres:0.1.0"."""
    from finsig import __version__

    return f"finsig/{name}:{__version__}"


def local_container(image: str, *ports: int, **kwargs: Any) -> DockerContainer:
    """A labelled DockerContainer whose ports are published on 127.0.0.1 (random host port)."""
    container = DockerContainer(image, labels=dict(LABELS), **kwargs)
    for port in ports:
        publish_local(container, port)
    return container


def publish_local(container: DockerContainer, port: int) -> DockerContainer:
    """Publish `port` on 127.0.0.1 only (random host port), also replacing an earlier
    with_exposed_ports(port) (e.g. PostgresContainer's, which would publish on 0.0.0.0).
    testcontainers' with_bind_ports takes no host address, so the docker SDK's form is set directly.
    """
    container.ports[str(port)] = ("127.0.0.1", None)  # type: ignore[assignment]
    return container


def make_network(prefix: str = "finsig-test") -> Any:
    """A named, labelled bridge network (docker SDK object); the caller removes it."""
    client = docker.from_env()
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return client.networks.create(name, driver="bridge", labels=dict(LABELS))


def sweep(session_id: str = SESSION_ID) -> list[str]:
    """Remove every container, network and volume labelled with this test session; say what went."""
    client = docker.from_env()
    selector = {"label": f"{SESSION_LABEL}={session_id}"}
    removed: list[str] = []
    for container in client.containers.list(all=True, filters=selector):
        container.remove(force=True, v=True)
        removed.append(f"container {container.name}")
    for network in client.networks.list(filters=selector):
        network.remove()
        removed.append(f"network {network.name}")
    for volume in client.volumes.list(filters=selector):
        volume.remove(force=True)
        removed.append(f"volume {volume.name}")
    return removed
