"""Helpers for the app's tests: free loopback ports and bounded waits."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from tests.support.containers import expose, inside_runner, local_container

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


def service_address(name: str, container_port: int, host_port: int) -> tuple[str, int]:
    return (name, container_port) if inside_runner() else ("127.0.0.1", host_port)


def loopback_container(image: str, ports: dict[int, int | None], name: str) -> Any:
    """A labelled, named container; on the host its ports are published on 127.0.0.1 (the
    given host port, or a random one for None); inside the runner it is reached by name."""
    container = local_container(image).with_name(name)
    for container_port, host_port in ports.items():
        expose(container, container_port, host_port)
    return container
