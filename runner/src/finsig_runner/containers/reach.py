"""THE one address helper: where a service of the run's stack answers, from where this code runs.

Inside the runner container the runner has created the run's internal network and joined it
(finsig_runner.containers.run_network); FINSIG_RUNNER_NETWORK names it. Services started on that
network
are reached by their alias and container port. On the host (development, the
project's tests) the network is a plain project-made bridge and every port is published on
127.0.0.1 only: a service is reached at 127.0.0.1 and its published port. Never any other
address (no bridge gateway, no container IP).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from finsig_runner.core.errors import ToolError

NETWORK_ENV = "FINSIG_RUNNER_NETWORK"
LOOPBACK = "127.0.0.1"


class UnreachableError(ToolError):
    """The port is not published on 127.0.0.1 (host mode), so there is no allowed address (exit
    3)."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path if path.startswith('/') else '/' + path}"


def run_network(env: Mapping[str, str] | None = None) -> str | None:
    """The run's network this process is on (inside the runner container), else None."""
    return (os.environ if env is None else env).get(NETWORK_ENV, "").strip() or None


def inside_runner(env: Mapping[str, str] | None = None) -> bool:
    """True when this process runs inside the runner container on the run's network."""
    return run_network(env) is not None


def published_port(attrs: Mapping[str, Any], container_port: int, protocol: str = "tcp") -> int:
    """The host port Docker published `container_port` on, on 127.0.0.1 only."""
    ports = (attrs.get("NetworkSettings") or {}).get("Ports") or {}
    bindings = ports.get(f"{container_port}/{protocol}") or []
    for binding in bindings:
        if binding.get("HostIp") == LOOPBACK and str(binding.get("HostPort", "")).isdigit():
            return int(binding["HostPort"])
    raise UnreachableError(f"port {container_port}/{protocol} is not published on {LOOPBACK}")


def address(
    alias: str,
    container_port: int,
    attrs: Mapping[str, Any] | None,
    env: Mapping[str, str] | None = None,
) -> Address:
    """The address of `alias:container_port`: the alias inside the runner, 127.0.0.1 on the host.

    `attrs` is the container's inspect data (docker SDK `container.attrs`), needed on the host.
    """
    if inside_runner(env):
        return Address(alias, container_port)
    if attrs is None:
        raise UnreachableError(f"{alias}: no container data to find its published port")
    return Address(LOOPBACK, published_port(attrs, container_port))
