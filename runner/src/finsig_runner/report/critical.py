"""The stage graph's shape: the critical path of a run and the columns the graph is drawn in."""

from __future__ import annotations

import graphlib
from collections.abc import Mapping, Sequence

from finsig_runner.report.model import StageRow


def _end(row: StageRow) -> float | None:
    if row.start is None or row.duration is None:
        return None
    return row.start + row.duration


def critical_path(rows: Sequence[StageRow], slack: float = 0.25) -> tuple[str, ...]:
    """The chain of waits that set the run's length, first stage first.

    From the stage that ended last, step back to what it waited for: the prerequisite that ended
    last, or, when the stage started more than `slack` seconds after that (or has none), the
    stage that ended last before it started, which held the job slot it waited for (--jobs)."""
    ends = {r.name: e for r in rows if (e := _end(r)) is not None}
    if not ends:
        return ()
    by_name = {r.name: r for r in rows}
    name = max(ends, key=lambda n: (ends[n], n))
    path = [name]
    while True:
        start = by_name[name].start or 0.0
        prereqs = [p for p in by_name[name].requires if p in ends and p not in path]
        best = max(prereqs, key=lambda n: (ends[n], n)) if prereqs else None
        if best is None or start - ends[best] > slack:
            held = [n for n in ends if n not in path and ends[n] <= start + slack]
            slot = max(held, key=lambda n: (ends[n], n)) if held else None
            if slot is not None and (best is None or ends[slot] > ends[best]):
                best = slot
        if best is None:
            break
        name = best
        path.append(name)
    return tuple(reversed(path))


def _order(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """Prerequisites first; None for a graph with a cycle (a registry refuses them)."""
    sorter = graphlib.TopologicalSorter({n: [p for p in graph[n] if p in graph] for n in graph})
    try:
        return list(sorter.static_order())
    except graphlib.CycleError:
        return None


def reduced(graph: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The graph without the arrows a longer path already implies (validate requires every
    stage; drawn, only the stages nothing else leads on from point at it)."""
    order = _order(graph)
    if order is None:
        return {n: tuple(graph[n]) for n in graph}
    below: dict[str, set[str]] = {}
    for name in order:
        below[name] = {q for p in graph[name] if p in graph for q in (p, *below[p])}
    return {n: tuple(p for p in graph[n] if p in graph and not any(
        p in below[q] for q in graph[n] if q in graph and q != p)) for n in graph}


def columns(graph: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Each node's column, as late as its dependents allow (so that arrows stay short): the
    last column minus the longest path from the node to a node nothing depends on."""
    order = _order(graph)
    if order is None:
        return {n: 0 for n in graph}
    height = {n: 0 for n in graph}
    for name in reversed(order):
        for p in graph[name]:
            if p in height:
                height[p] = max(height[p], height[name] + 1)
    top = max(height.values(), default=0)
    return {n: top - h for n, h in height.items()}
