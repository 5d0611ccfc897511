"""The services' dependencies: every depends_on names a known service it can wait for, and the
start levels in dependency order (finsig_runner.core.graph)."""

from __future__ import annotations

from collections.abc import Mapping

from finsig_runner.containers.compose.model import ComposeError, Condition, Service
from finsig_runner.core import graph


def check_dependencies(services: Mapping[str, Service]) -> None:
    for service in services.values():
        for dependency in service.depends_on:
            key = f"services.{service.name}.depends_on.{dependency.service}"
            target = services.get(dependency.service)
            if target is None:
                raise ComposeError(
                    f"depends on unknown service {dependency.service!r}", key, service.name
                )
            if dependency.service == service.name:
                raise ComposeError("a service cannot depend on itself", key, service.name)
            if dependency.condition is Condition.HEALTHY and target.healthcheck is None:
                raise ComposeError(
                    f"waits for {dependency.service!r} to be healthy, but it has no healthcheck",
                    key,
                    service.name,
                )


def start_levels(services: Mapping[str, Service]) -> tuple[tuple[str, ...], ...]:
    """Services grouped into start levels: each level depends only on earlier ones.

    Services in the same level can start in parallel. Names are sorted within a level so the order
    is the same on every run. A cycle raises ComposeError naming the services in it.
    """
    try:
        return graph.levels({name: [d.service for d in s.depends_on]
                             for name, s in services.items()})
    except graph.CycleFound as exc:
        first = exc.cycle[0]
        raise ComposeError(f"forms a cycle: {exc}", f"services.{first}.depends_on",
                           first) from exc
