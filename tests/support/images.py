"""Helpers for the image tests: bounded waits that notice a container that exited.

Where a service answers depends on where the tests run. On the host each test makes its own
network and publishes ports on 127.0.0.1 only. Inside the runner container (FINSIG_RUNNER_NETWORK
set) the runner has joined the run's `--internal` network: containers go on that network, publish
nothing, and are reached by container name and container port. Never any other address.
"""

from __future__ import annotations

import time
import uuid
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from testcontainers.core.container import DockerContainer

import docker

from tests.support.containers import expose, local_container, make_network, run_network

RUN_NETWORK = run_network() or ""

C = TypeVar("C", bound=DockerContainer)

# Never a proxy: the tests talk only to 127.0.0.1 ports published by our own containers.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ContainerExited(AssertionError):
    """The container stopped while a test waited for it."""


def logs_of(container: DockerContainer) -> str:
    out, err = container.get_logs()
    return (out + err).decode(errors="replace")[-4000:]


def assert_running(container: DockerContainer) -> None:
    wrapped = container.get_wrapped_container()
    wrapped.reload()
    if wrapped.status not in ("created", "running", "restarting"):
        code = wrapped.attrs.get("State", {}).get("ExitCode")
        raise ContainerExited(
            f"{wrapped.name} is {wrapped.status} (exit {code}):\n{logs_of(container)}")


def reach(container: DockerContainer, port: int) -> tuple[str, int]:
    """(host, port) of a container's port from here: 127.0.0.1 on the host, its alias inside."""
    if RUN_NETWORK:
        wrapped = container.get_wrapped_container()
        wrapped.reload()
        endpoint = wrapped.attrs["NetworkSettings"]["Networks"][RUN_NETWORK]
        # Docker's generated container names do not resolve on these networks; our aliases do.
        aliases = [a for a in endpoint.get("Aliases") or [] if not wrapped.id.startswith(a)]
        if not aliases:
            raise AssertionError(f"{wrapped.name} has no alias on {RUN_NETWORK}")
        return str(aliases[0]), port
    return "127.0.0.1", int(container.get_exposed_port(port))


def url_of(container: DockerContainer, port: int, path: str) -> str:
    host, port = reach(container, port)
    return f"http://{host}:{port}{path}"


def http_get(url: str, timeout: float = 3.0) -> tuple[int, str]:
    with _OPENER.open(url, timeout=timeout) as response:
        return int(response.status), response.read().decode(errors="replace")


def http_post(url: str, timeout: float = 3.0) -> int:
    request = urllib.request.Request(url, data=b"", method="POST")
    with _OPENER.open(request, timeout=timeout) as response:
        return int(response.status)


def wait_http(container: DockerContainer, port: int, path: str, *, timeout: float = 30.0,
              accept: Callable[[str], bool] = lambda body: True,
              request_timeout: float = 3.0) -> str:
    """Poll GET <path> on the container's port until it answers 200 with a body `accept` likes."""
    deadline = time.monotonic() + timeout
    url = url_of(container, port, path)
    last = "no answer yet"
    while time.monotonic() < deadline:
        assert_running(container)
        try:
            status, body = http_get(url, timeout=request_timeout)
            if status == 200 and accept(body):
                return body
            last = f"HTTP {status}: {body[:300]}"
        except (urllib.error.URLError, OSError) as exc:
            last = repr(exc)
        time.sleep(0.25)
    raise TimeoutError(f"{url} not ready within {timeout}s ({last}):\n{logs_of(container)}")


def wait_exit(container: DockerContainer, timeout: float = 60.0) -> tuple[int, str]:
    """Wait (bounded) for a one-shot container to finish; its exit code and output."""
    result = container.get_wrapped_container().wait(timeout=timeout)
    return int(result["StatusCode"]), logs_of(container)


def on_network(network: Any, *aliases: str) -> dict[str, Any]:
    """kwargs for local_container()/PostgresContainer: join our network, known there by `aliases`.

    testcontainers reads only `.name` of the network it is given, so the docker SDK network that
    make_network() returns (a name we chose, with our labels) serves as is.
    """
    return {"network": network, "network_aliases": list(aliases)}


@contextmanager
def network() -> Iterator[Any]:
    """A project-made, labelled bridge network removed afterwards (inside the runner: the run's)."""
    if RUN_NETWORK:
        yield docker.from_env().networks.get(RUN_NETWORK)
        return
    net = make_network()
    try:
        yield net
    finally:
        net.remove()


@contextmanager
def running(container: C) -> Iterator[C]:
    """Start `container` and remove it (and its anonymous volumes) afterwards, also on failure."""
    try:
        container.start()
        yield container
    finally:
        container.stop()


def service(image: str, port: int, net: Any, *aliases: str) -> DockerContainer:
    """A labelled container of one of our images on our network, its port reachable from here.
    Without `aliases` it gets a unique one (from the image's name)."""
    names = aliases or (unique(image.split("/")[-1].split(":")[0]),)
    return expose(local_container(image, **on_network(net, *names)), port)


def unique(name: str) -> str:
    """An alias no other container on a shared network (the runner's) can also carry."""
    return f"{name}-{uuid.uuid4().hex[:8]}"
