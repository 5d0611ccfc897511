"""`finsig-runner run`: run the pipeline's stages over a workspace."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from finsig_runner.cli.commands._common import add_trust, add_workspace
from finsig_runner.evidence.trust import Trust
from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.config_loader import load, to_json
from finsig_runner.containers.run_network import run_network
from finsig_runner.containers.sweep import WorkspaceSweeper
from finsig_runner.core.processes import protect_runner
from finsig_runner.engine.run import Engine
from finsig_runner.engine.scheduler import PrepareEnv
from finsig_runner.evidence.earlier_run import EarlierRun
from finsig_runner.stages import project_env
from finsig_runner.core.errors import UsageError
from finsig_runner.core.model import Stage
from finsig_runner.cli.output import make_output
from finsig_runner.engine.plan import Plan, build_plan, parse_names


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "run",
        help="run the pipeline (every stage, or a selection)",
        description="Run stages over the workspace; evidence goes to reports/ and artifacts/.",
    )
    add_workspace(parser)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--stages", metavar="NAMES",
                       help="comma-separated stages to run, with their prerequisites")
    which.add_argument("--only", metavar="NAMES",
                       help="run exactly these stages; prerequisites' outputs come from --from")
    parser.add_argument("--from", dest="from_dir", type=Path, metavar="DIR",
                        help="an earlier run's workspace (its event log must verify), with --only")
    add_trust(parser, "--from run")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="stages run in parallel (default: number of CPUs)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a configuration key (repeatable)")
    parser.add_argument("--dry-run", action="store_true",
                        help="check configuration and stage names, print the plan, run nothing")
    parser.set_defaults(func=main)


def registry(config: RunnerConfig) -> Mapping[str, Stage]:
    from finsig_runner.stages.registry import stages_for

    return stages_for(config)


def describe(plan: Plan, reg: Mapping[str, Stage]) -> list[str]:
    lines = [f"plan ({plan.mode.value}{', partial' if plan.partial else ''}):"]
    if any(reg[n].uses_project_env for n in plan.stages):
        lines.append("  project-env   (made once, before the first stage that needs it)")
    for name in plan.stages:
        stage = reg[name]
        waits = plan.waits_for(stage)
        after = f" after {', '.join(waits)}" if waits else ""
        flags = " [always]" if stage.always else ""
        lines.append(f"  {name}{after}{flags}")
    for name in plan.external:
        lines.append(f"  {name}   (outputs from {plan.from_dir or 'nowhere: no --from given'})")
    return lines


def main(
    args: argparse.Namespace,
    *,
    stages: Mapping[str, Stage] | None = None,
    prepare_env: PrepareEnv = project_env.prepare,
    env: Mapping[str, str] | None = None,
) -> int:
    workspace: Path = args.workspace.resolve()
    if not workspace.is_dir():
        raise UsageError(f"--workspace {workspace}: not a directory")
    config = load(workspace, os.environ if env is None else env, args.overrides)
    reg = stages if stages is not None else registry(config)
    from_dir = args.from_dir.resolve() if args.from_dir else None
    plan = build_plan(reg, parse_names(args.stages), parse_names(args.only), from_dir)
    if not plan.stages:
        raise UsageError("no stage to run: the stage registry is empty")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    if args.dry_run:
        print("\n".join(describe(plan, reg)))
        print("configuration: " + json.dumps(to_json(config), sort_keys=True))
        print("dry run: nothing was run")
        return 0
    trust = Trust.of(args.pubkeys, args.allow_unsigned)
    earlier = EarlierRun.open(from_dir, trust) if from_dir is not None else None
    protect_runner()  # non-dumpable, child subreaper: docs/threat-model.md
    output = make_output(sys.stdout)
    engine = Engine(reg, workspace, config, jobs=args.jobs, observer=output,
                    prepare_env=prepare_env, earlier=earlier)
    engine.after_stage = WorkspaceSweeper(engine.run_id, workspace)
    try:
        # Inside a container: the run's internal network, joined (containers/run_network.py).
        with run_network(engine.run_id):
            return engine.run(plan).exit_code
    finally:
        output.close()
