"""The stage registry: every stage, in pipeline order. The command line hands it to the engine.

To add a stage: write its module (one class satisfying finsig_runner.core.model.Stage; the
defaults are in stages.common.StageBase), import it below and put an instance in its place in
stages_for(). docs/architecture.md walks through an example.

The graph (DESIGN section 3): a project-environment step first (made on demand for stages with
uses_project_env); tests, lint, typing, security, build and monitoring independent; image after
build; staging after image and monitoring; validate last and always.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from finsig_runner.core import graph
from finsig_runner.core.config import RunnerConfig
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


def check(registry: Mapping[str, Stage]) -> None:
    """Every prerequisite is a registered stage and the graph has no cycle (else exit 2)."""
    for stage in registry.values():
        for req in stage.requires:
            if req not in registry:
                raise UnknownStageError(
                    f"stage {stage.name!r} requires {req!r}, which is not registered")
    try:
        graph.order({name: stage.requires for name, stage in registry.items()})
    except graph.CycleFound as exc:
        raise UnknownStageError(f"stage graph has a cycle: {exc}") from exc


def build_registry(stages: Iterable[Stage]) -> dict[str, Stage]:
    """A checked registry from stage instances, in the order given."""
    registry = {stage.name: stage for stage in stages}
    check(registry)
    return registry


def with_validate(stages: Iterable[Stage]) -> dict[str, Stage]:
    """The stages plus validate, which requires every other one and knows their checks."""
    listed = list(stages)
    return build_registry([*listed, ValidateStage.after(listed)])


def stages_for(config: RunnerConfig) -> dict[str, Stage]:
    """The registry for a run with this configuration.

    Names, order and graph never depend on it; the check ids some stages declare do (staging's
    follow `[tool.finsig-runner.staging]`), and validate requires what they declare.
    """
    return with_validate([
        TestsStage(),
        LintStage(),
        TypingStage(),
        SecurityStage(),
        BuildStage(),
        ImageStage(),
        MonitoringStage(),
        StagingStage.for_config(config),
    ])


# The registry with the default configuration: for what is the same for every configuration
# (names, order, graph). A run's check ids come from stages_for(its configuration).
STAGES: dict[str, Stage] = stages_for(RunnerConfig())
