"""Dependency order, the one way: graphlib, in levels, a cycle named in the error.

Used for the stage graph (the planner and the registry) and for a compose file's services.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Iterable, Mapping

from finsig_runner.core.errors import ConfigError


class CycleFound(ConfigError):
    """The graph has a cycle (exit 2); `cycle` lists it, first node repeated last (`a -> b -> a`).

    Callers that know where the graph came from raise their own error naming it (UnknownStageError
    for the stage registry, ComposeError for a compose file's services).
    """

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(" -> ".join(cycle))
        self.cycle = cycle


def _sorter(requires: Mapping[str, Iterable[str]]) -> graphlib.TopologicalSorter[str]:
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for node, needs in requires.items():
        sorter.add(node, *(n for n in needs if n in requires))
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        raise CycleFound(_canonical(list(exc.args[1]))) from exc
    return sorter


def levels(requires: Mapping[str, Iterable[str]]) -> tuple[tuple[str, ...], ...]:
    """Nodes grouped in levels: every node after all it requires; each level sorted by name.

    Requirements that are not nodes of the graph are ignored. Raises CycleFound.
    """
    sorter = _sorter(requires)
    found: list[tuple[str, ...]] = []
    while sorter.is_active():
        ready = tuple(sorted(sorter.get_ready()))
        found.append(ready)
        sorter.done(*ready)
    return tuple(found)


def order(requires: Mapping[str, Iterable[str]], rank: Mapping[str, int] | None = None
          ) -> tuple[str, ...]:
    """One total order: every node after all it requires, otherwise the smallest `rank` first
    (default: the mapping's own order), the same on every run. Raises CycleFound."""
    ranks = rank if rank is not None else {node: i for i, node in enumerate(requires)}
    sorter = _sorter(requires)
    ready: list[tuple[int, str]] = []
    found: list[str] = []
    while sorter.is_active():
        for node in sorter.get_ready():
            heapq.heappush(ready, (ranks.get(node, len(ranks)), node))
        _, node = heapq.heappop(ready)
        found.append(node)
        sorter.done(node)
    return tuple(found)


def _canonical(cycle: list[str]) -> list[str]:
    """graphlib's cycle (last node repeated) rotated to start at its smallest node."""
    ring = cycle[:-1] if len(cycle) > 1 and cycle[0] == cycle[-1] else cycle
    ring = list(reversed(ring))  # graphlib lists a cycle against the direction of `requires`
    first = ring.index(min(ring))
    ring = ring[first:] + ring[:first]
    return ring + [ring[0]]
