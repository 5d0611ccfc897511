"""Which stages a run executes, in what order, and which prerequisites come from `--from DIR`.

The planner is handed the registry (a mapping of stage name to Stage); it never imports one.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from finsig_runner.core import graph
from finsig_runner.core.errors import UnknownStageError, UsageError
from finsig_runner.core.model import Stage


class Mode(str, enum.Enum):
    FULL = "full"  # every registered stage
    STAGES = "stages"  # the named stages, their prerequisites and the always-run stages
    ONLY = "only"  # the named stages (and validate); prerequisites' outputs from --from DIR


@dataclass(frozen=True)
class Plan:
    stages: tuple[str, ...]  # selected stages, each after its prerequisites (registry order)
    external: tuple[str, ...]  # prerequisites not run here (`--only`): outputs from from_dir
    partial: bool  # not every registered stage runs: the run ends PARTIAL, never with a verdict
    from_dir: Path | None = None
    mode: Mode = Mode.FULL

    def waits_for(self, stage: Stage) -> tuple[str, ...]:
        """The prerequisites a stage waits for in this plan (an always-run stage: only those
        that run here or are imported; it never pulls the others in)."""
        return tuple(r for r in stage.requires
                     if not stage.always or r in self.stages or r in self.external)


def parse_names(text: str | None) -> list[str]:
    """`a,b c` -> [a, b, c]. An empty or blank selection is refused (an empty CI variable)."""
    if text is None:
        return []
    names = [name.strip() for name in text.replace(" ", ",").split(",") if name.strip()]
    if not names:
        raise UsageError(f"an empty stage selection {text!r}: name at least one stage "
                         "(or leave the option out to run every stage)")
    return names


def ordered(registry: Mapping[str, Stage], selected: Iterable[str] | None = None
            ) -> tuple[str, ...]:
    """The selected stages, each after its selected prerequisites, else in registry order.

    Raises UnknownStageError naming the cycle when the requires-graph has one.
    """
    chosen = set(registry if selected is None else selected)
    rank = {name: i for i, name in enumerate(registry)}
    try:
        return graph.order({n: registry[n].requires for n in registry if n in chosen}, rank)
    except graph.CycleFound as exc:
        raise UnknownStageError(f"stage graph has a cycle: {exc}") from exc


def _known(registry: Mapping[str, Stage], names: Sequence[str]) -> None:
    for name in names:
        if name not in registry:
            raise UnknownStageError(
                f"unknown stage {name!r} (stages: {', '.join(registry) or 'none registered'})")


def _closure(registry: Mapping[str, Stage], names: Sequence[str]) -> set[str]:
    todo, found = list(names), set[str]()
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(registry[name].requires)
    return found


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
        # the always-run stages join (validate: every job ends with its own PARTIAL document,
        # which the sealer signs and a merge verifies); they import no prerequisite
        selected = set(only) | {n for n, s in registry.items() if s.always}
        # direct prerequisites only: those of prerequisites are the earlier run's business; an
        # always-run stage (validate) waits for whichever prerequisites run and imports none
        external = {r for n in selected if not registry[n].always
                    for r in registry[n].requires if r not in selected}
        mode = Mode.ONLY
    else:
        selected = _closure(registry, list(stages) if stages else list(registry))
        # an always-run stage joins without its own prerequisites (validate requires every
        # stage: pulling them in would turn `--stages lint` into a full run)
        selected |= {n for n, s in registry.items() if s.always}
        external = set()
        mode = Mode.STAGES if stages else Mode.FULL
    chosen = ordered(registry, selected)
    return Plan(
        stages=chosen,
        external=tuple(n for n in registry if n in external),
        partial=set(chosen) != set(registry),
        from_dir=from_dir,
        mode=mode,
    )
