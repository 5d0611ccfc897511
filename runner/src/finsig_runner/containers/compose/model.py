"""The compose file as the staging stage understands it: frozen dataclasses, and its error."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from finsig_runner.core.errors import ConfigError


LOOPBACK = "127.0.0.1"

# Docker's own defaults for a healthcheck key that is left out.
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_START_PERIOD = 0.0


class ComposeError(ConfigError):
    """The compose file is outside the subset the staging stage understands, or inconsistent
    (exit 2).

    `key` is the dotted path of the offending key (e.g. "services.app.ports[0]") when there is one,
    `service` the service it belongs to.
    """

    def __init__(self, message: str, key: str | None = None, service: str | None = None) -> None:
        super().__init__(f"{key}: {message}" if key else message, key=key)
        self.service = service


class Condition(str, enum.Enum):
    STARTED = "service_started"
    HEALTHY = "service_healthy"


@dataclass(frozen=True)
class Healthcheck:
    """A container healthcheck; durations in seconds. `test` keeps its CMD / CMD-SHELL head."""

    test: tuple[str, ...]
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    start_period: float = DEFAULT_START_PERIOD

    def to_docker(self) -> dict[str, Any]:
        """The `healthcheck` argument of the Docker API / SDK (durations in nanoseconds)."""
        return {
            "test": list(self.test),
            "interval": _nanoseconds(self.interval),
            "timeout": _nanoseconds(self.timeout),
            "retries": self.retries,
            "start_period": _nanoseconds(self.start_period),
        }


@dataclass(frozen=True)
class Dependency:
    service: str
    condition: Condition = Condition.STARTED


@dataclass(frozen=True)
class Port:
    """A container port published on 127.0.0.1; host_port None means "any free port"."""

    container_port: int
    host_port: int | None = None
    host_ip: str = LOOPBACK
    protocol: str = "tcp"


@dataclass(frozen=True)
class VolumeMount:
    """A named volume (declared at the top level) mounted at `target`."""

    volume: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class BindMount:
    """A config file next to the compose file; the stage copies it in instead of bind-mounting.

    `source` is as written (relative to the compose file), `path` the resolved file on disk.
    """

    source: str
    path: Path
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    command: tuple[str, ...] | None = None
    healthcheck: Healthcheck | None = None
    depends_on: tuple[Dependency, ...] = ()
    ports: tuple[Port, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    volumes: tuple[VolumeMount, ...] = ()
    binds: tuple[BindMount, ...] = ()


@dataclass(frozen=True)
class ComposeProject:
    """The parsed file: services by name (file order), named volumes, and the start order."""

    path: Path | None
    services: Mapping[str, Service]
    volumes: Mapping[str, Mapping[str, str]]
    start_levels: tuple[tuple[str, ...], ...]

    @property
    def start_order(self) -> tuple[str, ...]:
        """Every service once, dependencies first (the levels flattened)."""
        return tuple(name for level in self.start_levels for name in level)


def _nanoseconds(seconds: float) -> int:
    return int(round(seconds * 1_000_000_000))
