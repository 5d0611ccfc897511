"""Helpers for the image tests: bounded waits that notice a container that exited."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from testcontainers.core.container import DockerContainer

from tests.support.containers import local_container, make_network

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


def url_of(container: DockerContainer, port: int, path: str) -> str:
    return f"http://127.0.0.1:{container.get_exposed_port(port)}{path}"


def http_get(url: str, timeout: float = 3.0) -> tuple[int, str]:
    with _OPENER.open(url, timeout=timeout) as response:
        return int(response.status), response.read().decode(errors="replace")


def http_post(url: str, timeout: float = 3.0) -> int:
    request = urllib.request.Request(url, data=b"", method="POST")
    with _OPENER.open(request, timeout=timeout) as response:
        return int(response.status)


def wait_http(container: DockerContainer, port: int, path: str, *, timeout: float = 30.0,
              accept: Callable[[str], bool] = lambda body: True) -> str:
    """Poll GET 127.0.0.1:<published port><path> until it answers 200 with a body `accept` likes."""
    url = url_of(container, port, path)
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        assert_running(container)
        try:
            status, body = http_get(url)
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
    """A project-made, labelled bridge network, removed afterwards."""
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
    """A labelled container of one of our images on our network, its port on 127.0.0.1."""
    return local_container(image, port, **on_network(net, *aliases))
