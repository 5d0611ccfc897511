"""A child process for the SIGTERM test: the real Engine running only `staging` (its
prerequisites taken away), so that the signal path is the one `finsig-runner run` uses.

    python -m tests.support.engine_child WORKSPACE RUN_ID COMPOSE
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from finsig_runner.core.config import RunnerConfig
from finsig_runner.engine.run import Engine
from finsig_runner.engine.plan import Plan
from finsig_runner.stages.staging.stage import StagingStage


class SoloStaging(StagingStage):
    requires: tuple[str, ...] = ()


def main(argv: list[str]) -> int:
    workspace, run_id, compose = Path(argv[0]), argv[1], argv[2]
    config = replace(RunnerConfig(), staging_compose=compose, keep_previous=0)
    engine = Engine({"staging": SoloStaging()}, workspace, config, run_id=run_id)
    outcome = engine.run(Plan(stages=("staging",), external=(), partial=True))
    result = outcome.results["staging"]
    print(f"OUTCOME {outcome.status.value} {result.status.value} {result.reason}", flush=True)
    return outcome.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
