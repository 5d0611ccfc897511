"""Bounded waits that notice a dead container and an interrupted run, never a hang."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

from finsig_runner.core.errors import Interrupted, ToolError

T = TypeVar("T")


class StackError(ToolError):
    """A service did not come up (exit 3): `service` names it, `logs` holds its last log lines."""

    def __init__(self, service: str, message: str, logs: str = "") -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.logs = logs


class Stopped(Interrupted):
    """The wait was abandoned because `stop` said so: the run was interrupted (exit 130).

    Inside Stack.up a sibling's failure stops the other waits too; up() then raises that failure.
    """


def log_tail(container: Any, lines: int = 30) -> str:
    try:
        raw = container.logs(tail=lines)
    except Exception as exc:  # the container may be gone already
        return f"(no logs: {exc})"
    return bytes(raw).decode("utf-8", errors="replace").rstrip()


class HealthyOrExited(WaitStrategy):
    """Ready when the container is healthy (or running, without a healthcheck).

    Unlike testcontainers' HealthcheckWaitStrategy it fails at once when the container exits or
    turns unhealthy, and gives up when `stop` is set (interrupt, or a sibling failed).
    """

    def __init__(self, service: str, timeout: float, stop: Callable[[], bool]) -> None:
        super().__init__()
        self.service = service
        self.timeout = timeout
        self.stop = stop

    def wait_until_ready(self, container: WaitStrategyTarget) -> None:
        wrapped = container.get_wrapped_container()
        deadline = time.monotonic() + self.timeout
        while True:
            wrapped.reload()
            state = wrapped.attrs.get("State") or {}
            status = state.get("Status", "")
            health = (state.get("Health") or {}).get("Status")
            if status in ("exited", "dead"):
                tail = log_tail(wrapped)
                last = (tail.splitlines() or [""])[-1].strip()[:300]
                raise StackError(self.service, f"exited with status {state.get('ExitCode')} "
                                 f"before it was ready; last log line: {last}", tail)
            if status == "running" and health in (None, "healthy"):
                return
            if health == "unhealthy":
                probes = (state.get("Health") or {}).get("Log") or [{}]
                last = str(probes[-1].get("Output", "")).strip()[-300:]
                raise StackError(self.service, f"unhealthy (last probe: {last})",
                                 log_tail(wrapped))
            if time.monotonic() > deadline:
                raise StackError(self.service, f"not healthy within {self.timeout:.0f}s "
                                 f"(status {status}, health {health})", log_tail(wrapped))
            time.sleep(0.25)
            if self.stop():
                raise Stopped(self.service)


def poll(probe: Callable[[], T | None], timeout: float, stop: Callable[[], bool],
         interval: float = 0.5) -> tuple[T | None, float]:
    """Call `probe` until it returns something other than None; (value or None, seconds)."""
    started = time.monotonic()
    deadline = started + timeout
    while True:
        value = probe()
        if value is not None:
            return value, time.monotonic() - started
        if time.monotonic() >= deadline:
            return None, time.monotonic() - started
        time.sleep(interval)
        if stop():
            raise Stopped("interrupted")
