"""Which stages a run executes, in what order, and which prerequisites come from `--from DIR`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from finsig_runner.core.errors import UnknownStageError, UsageError
from finsig_runner.core.model import Stage
from finsig_runner.stages.registry import STAGE_NAMES


@dataclass(frozen=True)
class Plan:
    stages: tuple[str, ...]  # selected stages, topologically ordered (registry order among peers)
    external: tuple[str, ...]  # prerequisites not run here (`--only`): outputs from from_dir
    partial: bool  # not every registered stage runs: the run ends PARTIAL, never with a verdict
    from_dir: Path | None = None
    mode: str = "full"  # full | stages | only


def parse_names(text: str | None) -> list[str]:
    if not text:
        return []
    return [name.strip() for name in text.replace(" ", ",").split(",") if name.strip()]


def _known(registry: Mapping[str, Stage], names: Sequence[str]) -> None:
    for name in names:
        if name in registry:
            continue
        if name in STAGE_NAMES:
            raise UnknownStageError(f"stage {name!r} is not implemented in this version")
        raise UnknownStageError(
            f"unknown stage {name!r} (stages: {', '.join(registry) or 'none registered'})"
        )


def _closure(registry: Mapping[str, Stage], names: Sequence[str]) -> set[str]:
    todo, found = list(names), set[str]()
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(registry[name].requires)
    return found


def topological(registry: Mapping[str, Stage], selected: set[str]) -> tuple[str, ...]:
    """Selected names, each after its (selected) prerequisites, otherwise in registry order."""
    ordered: list[str] = []
    placed: set[str] = set()
    remaining = [n for n in registry if n in selected]
    while remaining:
        for name in remaining:
            if all(r in placed or r not in selected for r in registry[name].requires):
                ordered.append(name)
                placed.add(name)
                remaining.remove(name)
                break
        else:  # registry.check() refuses cycles; this is a guard
            raise UnknownStageError(f"stage graph has a cycle among {', '.join(remaining)}")
    return tuple(ordered)


def build_plan(
    registry: Mapping[str, Stage],
    stages: Sequence[str] = (),
    only: Sequence[str] = (),
    from_dir: Path | None = None,
) -> Plan:
    """`stages`: named + prerequisites (+ always-run stages). `only`: exactly those.

    With neither, every registered stage runs. Raises UnknownStageError / UsageError (exit 2).
    """
    if stages and only:
        raise UsageError("--stages and --only exclude each other")
    if from_dir is not None and not only:
        raise UsageError("--from is used with --only (it supplies the prerequisites' outputs)")
    _known(registry, [*stages, *only])
    if only:
        selected = set(only)
        external = {r for n in selected if not registry[n].always
                    for r in registry[n].requires if r not in selected}
        # an always-run stage (validate) waits for whichever prerequisites run; it imports none
        # prerequisites of prerequisites are the earlier run's business: only direct ones matter
        mode = "only"
    else:
        selected = _closure(registry, list(stages) if stages else list(registry))
        # an always-run stage joins without its own prerequisites (validate requires every
        # stage: pulling them in would turn `--stages lint` into a full run); it waits for
        # whichever of them run, as with --only
        selected |= {n for n, s in registry.items() if s.always}
        external = set()
        mode = "stages" if stages else "full"
    ordered = topological(registry, selected)
    return Plan(
        stages=ordered,
        external=tuple(n for n in registry if n in external),
        partial=set(ordered) != set(registry),
        from_dir=from_dir,
        mode=mode,
    )
