"""The stage registry: every implemented stage, in pipeline order.

To add a stage: import its class below and put an instance in _IMPLEMENTED. Stage names are fixed
(STAGE_NAMES); a name without an implementation is listed by `finsig-runner list` as "not
implemented in this version" and refused by `run` (exit 2) rather than pretended to pass.

The graph (DESIGN section 3): a project-environment step first (made on demand for stages with
uses_project_env); tests, lint, typing, security, build and monitoring independent; image after
build; staging after image and monitoring; validate last and always.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from finsig_runner.core.errors import UnknownStageError
from finsig_runner.core.model import Stage
from finsig_runner.stages.build.stage import BuildStage
from finsig_runner.stages.image.stage import ImageStage
from finsig_runner.stages.lint import LintStage
from finsig_runner.stages.monitoring import MonitoringStage
from finsig_runner.stages.security.stage import SecurityStage
from finsig_runner.stages.staging.stage import StagingStage
from finsig_runner.stages.tests.stage import TestsStage
from finsig_runner.stages.type_check import TypingStage
from finsig_runner.stages.validate.stage import ValidateStage

STAGE_NAMES: tuple[str, ...] = (
    "tests",
    "lint",
    "typing",
    "security",
    "build",
    "image",
    "monitoring",
    "staging",
    "validate",
)

# One instance per implemented stage (order does not matter: STAGES follows STAGE_NAMES).
_IMPLEMENTED: tuple[Stage, ...] = (
    TestsStage(),
    LintStage(),
    TypingStage(),
    SecurityStage(),
    BuildStage(),
    ImageStage(),
    MonitoringStage(),
    StagingStage(),
)


def build_registry(stages: Iterable[Stage]) -> dict[str, Stage]:
    """A registry from stage instances, in STAGE_NAMES order (unknown names go last)."""
    by_name = {stage.name: stage for stage in stages}
    order = [n for n in STAGE_NAMES if n in by_name] + [n for n in by_name if n not in STAGE_NAMES]
    registry = {name: by_name[name] for name in order}
    check(registry)
    return registry


def check(registry: Mapping[str, Stage]) -> None:
    """Every prerequisite must be a registered stage, and the graph must have no cycle."""
    for stage in registry.values():
        for req in stage.requires:
            if req not in registry:
                raise UnknownStageError(
                    f"stage {stage.name!r} requires {req!r}, which is not registered"
                )
    seen: dict[str, int] = {}  # 1 = on the path, 2 = done

    def visit(name: str, path: tuple[str, ...]) -> None:
        if seen.get(name) == 2:
            return
        if seen.get(name) == 1:
            raise UnknownStageError(f"stage graph has a cycle: {' -> '.join(path + (name,))}")
        seen[name] = 1
        for req in registry[name].requires:
            visit(req, path + (name,))
        seen[name] = 2

    for name in registry:
        visit(name, ())


# validate requires every other stage (so it runs last, also after failures) and knows their checks.
_IMPLEMENTED += (ValidateStage.after(build_registry(_IMPLEMENTED).values()),)

STAGES: dict[str, Stage] = build_registry(_IMPLEMENTED)

PLANNED: tuple[str, ...] = tuple(n for n in STAGE_NAMES if n not in STAGES)
