"""`finsig-runner list`: every stage with its prerequisites, inputs and check ids."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from collections.abc import Mapping, Sequence
from pathlib import Path

from finsig_runner.cli.commands._common import add_workspace
from finsig_runner.core.config_loader import load
from finsig_runner.core.context import StageContext
from finsig_runner.core.model import Stage


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("list", help="list stages, their prerequisites, inputs and checks")
    add_workspace(parser)
    parser.set_defaults(func=main)


def summarize_files(files: Sequence[Path], workspace: Path) -> str:
    """`12 (src/ 10, pyproject.toml, .flake8)`: a count, grouped by top-level directory."""
    if not files:
        return "-"
    groups: dict[str, list[str]] = {}
    for path in files:
        rel = path.relative_to(workspace) if path.is_absolute() and path.is_relative_to(
            workspace) else path
        top = rel.parts[0] if len(rel.parts) > 1 else ""
        groups.setdefault(top, []).append(str(rel))
    parts: list[str] = []
    for top, members in groups.items():
        if top and len(members) > 1:
            parts.append(f"{top}/ {len(members)}")
        else:
            parts.extend(members)
    return f"{len(files)} ({', '.join(parts)})"


def lines(reg: Mapping[str, Stage], ctx_for: StageContext | None) -> list[str]:
    out: list[str] = []
    for name, stage in reg.items():
        flags = [f for f, on in (("always", stage.always),
                                 ("project-env", stage.uses_project_env)) if on]
        out.append(f"{name}" + (f"  [{', '.join(flags)}]" if flags else ""))
        out.append(f"  requires: {', '.join(stage.requires) or '-'}")
        if ctx_for is not None:
            try:
                inputs = stage.inputs(replace(ctx_for, stage=name))
                files = summarize_files(inputs.files, ctx_for.workspace)
                config = ", ".join(k for k, _ in inputs.config) or "-"
                tools = ", ".join(k for k, _ in inputs.tools) or "-"
                out.append(f"  inputs:   files {files}; config {config}; tools {tools}")
            except Exception as exc:  # listing must not die on one stage's inputs
                out.append(f"  inputs:   (cannot be listed: {type(exc).__name__}: {exc})")
        out.append(f"  checks:   {', '.join(stage.checks) or '-'}")
    return out


def main(args: argparse.Namespace, *, stages: Mapping[str, Stage] | None = None) -> int:
    from finsig_runner.stages.registry import stages_for

    workspace = args.workspace.resolve()
    config = load(workspace, os.environ)
    reg = stages if stages is not None else stages_for(config)
    ctx = StageContext.create(workspace, config, "list", "list")
    print("\n".join(lines(reg, ctx)))
    return 0
