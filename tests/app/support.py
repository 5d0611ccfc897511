"""Helpers for the app's tests: free loopback ports and bounded waits."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.support.containers import local_container

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    what: str,
    probe: Callable[[], T | None],
    timeout: float,
    interval: float = 0.25,
    abort: Callable[[], str | None] = lambda: None,
) -> T:
    """Poll `probe` until it returns something other than None (or False).

    `abort` returns a reason to stop early (e.g. the container exited); the error carries it.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        reason = abort()
        if reason:
            raise AssertionError(f"gave up waiting for {what}: {reason}")
        try:
            result = probe()
            if result is not None and result is not False:
                return result
        except Exception as exc:  # noqa: BLE001 - any failure just means "not yet"
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout:.0f}s (last error: {last_error!r})")


def inside_runner() -> bool:
    """Inside the runner container the tests sit on the run's (internal) network and reach
    containers by name and container port; on the host, through ports published on 127.0.0.1."""
    return bool(os.environ.get("FINSIG_RUNNER_NETWORK", "").strip())


def service_address(name: str, container_port: int, host_port: int) -> tuple[str, int]:
    return (name, container_port) if inside_runner() else ("127.0.0.1", host_port)


def loopback_container(image: str, ports: dict[int, int | None], name: str) -> Any:
    """A labelled, named container (tests.support.containers); on the host its ports are
    published on 127.0.0.1 (inside the runner nothing is published: it is reached by name).

    testcontainers 4.15's with_bind_ports takes only a port number and would publish on every
    address, so the bindings go to the docker SDK directly: (address,) or (address, port).
    """
    container = local_container(image).with_name(name)
    if inside_runner():
        return container
    for container_port, host_port in ports.items():
        binding = ("127.0.0.1",) if host_port is None else ("127.0.0.1", host_port)
        container.ports[f"{container_port}/tcp"] = binding  # type: ignore[assignment]
    return container
