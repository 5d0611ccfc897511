"""Containers for tests: labelled with the test session, ports published on 127.0.0.1 only.

Every container or network a test makes goes through here, so the session's final sweep
(tests/conftest.py) can remove whatever a failing test left behind.
"""

from __future__ import annotations

import os
import uuid
from typing import Any, TypeVar

import docker
from testcontainers.core.container import DockerContainer

SESSION_LABEL = "finsig.test-session"
SESSION_ID = os.environ.get("FINSIG_TEST_SESSION", uuid.uuid4().hex[:12])
LABELS = {SESSION_LABEL: SESSION_ID, "finsig.owner": "tests"}

C = TypeVar("C", bound=DockerContainer)


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


def run_network() -> str | None:
    """The run's network when the tests run inside the runner container (FINSIG_RUNNER_NETWORK),
    where containers are reached by alias and container port; None on the host."""
    return os.environ.get("FINSIG_RUNNER_NETWORK", "").strip() or None


def inside_runner() -> bool:
    return run_network() is not None


def publish_local(
    container: DockerContainer, port: int, host_port: int | None = None
) -> DockerContainer:
    """Publish `port` on 127.0.0.1 only (on `host_port`, else a random one), replacing any
    earlier binding of it (e.g. PostgresContainer's with_exposed_ports, which would publish on
    0.0.0.0). testcontainers' with_bind_ports takes no host address, so the docker SDK's form
    is set directly.
    """
    _unbind(container, port)
    container.ports[f"{port}/tcp"] = ("127.0.0.1", host_port)  # type: ignore[assignment]
    return container


def expose(container: C, port: int, host_port: int | None = None) -> C:
    """Publish `port` on 127.0.0.1 on the host; publish nothing inside the runner (the tests
    reach the container by alias on the run's network there)."""
    if inside_runner():
        _unbind(container, port)
    else:
        publish_local(container, port, host_port)
    return container


def _unbind(container: DockerContainer, port: int) -> None:
    """Forget every earlier binding of `port`, whichever key form set it (5432, "5432", ...)."""
    bindings: dict[Any, Any] = container.ports
    for key in (port, str(port), f"{port}/tcp"):
        bindings.pop(key, None)


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
