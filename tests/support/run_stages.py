"""Run the five stages of this package over a fixture project, as the engine would."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.model import Stage, StageResult
from finsig_runner.stages.build.stage import BuildStage
from finsig_runner.stages.lint import LintStage
from finsig_runner.stages.security.stage import SecurityStage
from finsig_runner.stages.tests.stage import TestsStage
from finsig_runner.stages.type_check import TypingStage

from tests.support.sample_project import TODAY
from tests.support.sample_project import context


def all_stages() -> list[Stage]:
    security = SecurityStage(clock=lambda: TODAY)
    return [TestsStage(), LintStage(), TypingStage(), security, BuildStage()]


def run_stage(stage: Stage, root: Path, cfg: RunnerConfig, bin_dir: Path) -> StageResult:
    ctx = context(root, stage.name, cfg, bin_dir if stage.uses_project_env else None)
    result = stage.run(ctx)
    assert result.stage == stage.name
    assert {c.id for c in result.checks} <= set(stage.checks), result.checks
    assert result.started is not None and result.ended is not None
    return result


def run_all(root: Path, cfg: RunnerConfig, bin_dir: Path) -> dict[str, StageResult]:
    """Every stage, three at a time: they are independent, as the engine treats them."""
    stages = all_stages()
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {s.name: pool.submit(run_stage, s, root, cfg, bin_dir) for s in stages}
        return {name: future.result() for name, future in futures.items()}
