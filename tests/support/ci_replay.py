"""The CI files' own conditions and shell lines, run here: a GitHub job's `if:` expressions and its
`run:` steps in order (actions stood in for by the test), GitLab `rules:` and a job's script lines.
Only the expression forms the CI files use are understood; anything else is an error, so a new
form cannot pass unread."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess  # nosec B404 (the CI files' own lines, with our tools)
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.ci_files import tool

_STATUS = ("success", "failure", "always", "cancelled")
_GITHUB_REF = re.compile(r"\b(?:github|vars|secrets|inputs)(?:\.[A-Za-z0-9_-]+)+")
_GITLAB_REF = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _evaluate(node: ast.expr, names: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        values = [_evaluate(v, names) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _evaluate(node.operand, names)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = _evaluate(node.left, names), _evaluate(node.comparators[0], names)
        if isinstance(node.ops[0], ast.Eq):
            return left == right
        if isinstance(node.ops[0], ast.NotEq):
            return left != right
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.args:
        return names[node.func.id]()
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return names[node.id]
    raise ValueError(f"an expression form the replay does not know: {ast.dump(node)}")


def _python(text: str, refs: re.Pattern[str], value: Callable[[re.Match[str]], Any]
            ) -> tuple[str, dict[str, Any]]:
    names: dict[str, Any] = {}

    def name(match: re.Match[str]) -> str:
        key = f"ref{len(names)}"
        names[key] = value(match)
        return key

    py = refs.sub(name, text).replace("&&", " and ").replace("||", " or ")
    return re.sub(r"!(?!=)", " not ", py).strip(), names


def github_if(expr: str | None, context: Mapping[str, Any], failed: bool = False) -> bool:
    """A job's or step's `if:`; without a status function it means `success() && (...)`."""
    text = _EXPR.sub(lambda m: m.group(1), (expr or "true").strip())
    py, names = _python(text, _GITHUB_REF, lambda m: context.get(m.group(0)))
    names.update(success=lambda: not failed, failure=lambda: failed, always=lambda: True,
                 cancelled=lambda: False, true=True)
    result = bool(_evaluate(ast.parse(py, mode="eval").body, names))
    return result if any(f"{s}()" in text for s in _STATUS) else result and not failed


def github_value(text: str, context: Mapping[str, Any], needs: Mapping[str, str]) -> str:
    """A `${{ ... }}` value: a context reference, `a || 'default'`, or join(needs.*.result)."""
    def one(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner == "join(needs.*.result, ' ')":
            return " ".join(needs.values())
        for part in (p.strip() for p in inner.split("||")):
            found = part.strip("'") if part.startswith("'") else context.get(part)
            if found:
                return str(found)
        return ""
    return _EXPR.sub(one, text)


def gitlab_if(expr: str, variables: Mapping[str, str]) -> bool:
    py, names = _python(expr, _GITLAB_REF, lambda m: variables.get(m.group(1)) or None)
    return bool(_evaluate(ast.parse(py, mode="eval").body, names))


def gitlab_rules(rules: list[dict[str, Any]] | None, variables: Mapping[str, str]) -> str:
    """`never`, or the `when` of the first rule that matches (no rules: on_success)."""
    for rule in rules or [{}]:
        if "if" not in rule or gitlab_if(rule["if"], variables):
            return str(rule.get("when", "on_success"))
    return "never"


def gitlab_expand(value: str, variables: Mapping[str, str]) -> str:
    return _GITLAB_REF.sub(lambda m: variables.get(m.group(1), ""), value)


@dataclass(frozen=True)
class Step:
    name: str
    ran: bool
    returncode: int
    output: str


def _environment(workspace: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """A job's shell: our tools first on PATH, HOME and the runner's temp in the test's dir."""
    home = workspace.parent / "home"
    home.mkdir(exist_ok=True)
    path = f"{Path(tool('finsig-runner')).parent}:{os.environ['PATH']}"
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", **extra}


def bash(script: str, workspace: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # nosec B603 B607 (the CI file's own lines)
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=workspace,
        env=_environment(workspace, env), capture_output=True, text=True, timeout=240)


def github_job(job: dict[str, Any], workspace: Path, context: Mapping[str, Any],
               action: Callable[[dict[str, Any]], int],
               needs: Mapping[str, str] | None = None) -> list[Step]:
    """Every step of `job`, as GitHub runs them: `if:` decides, a failure fails what follows
    unless it asks otherwise; `uses:` steps go to `action` (the test's stand-in)."""
    temp = workspace.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    base = {"RUNNER_TEMP": str(temp), "GITHUB_WORKSPACE": str(workspace)}
    job_env = {k: github_value(str(v), context, needs or {}) for k, v in
               (job.get("env") or {}).items()}
    steps: list[Step] = []
    failed = False
    for step in job["steps"]:
        if not github_if(step.get("if"), context, failed):
            steps.append(Step(step.get("name", step.get("uses", "")), False, 0, ""))
            continue
        if "uses" in step:
            code, out = action(step), ""
        else:
            env = {**base, **job_env, **{k: github_value(str(v), context, needs or {})
                                         for k, v in (step.get("env") or {}).items()}}
            done = bash(step["run"], workspace, env)
            code, out = done.returncode, done.stdout + done.stderr
        failed = failed or code != 0
        steps.append(Step(step.get("name", step.get("uses", "")), True, code, out))
    return steps


def gitlab_job(job: dict[str, Any], default: dict[str, Any], workspace: Path,
               variables: Mapping[str, str]) -> tuple[Step, Step]:
    """before_script and script as one shell that stops at the first failing line, then
    after_script in a shell of its own, as GitLab runs them."""
    lines = [*job.get("before_script", default.get("before_script", [])), *job["script"]]
    main = bash("\n".join(map(str, lines)), workspace, variables)
    after = bash("\n".join(map(str, job.get("after_script", []))) or "true", workspace,
                 variables)
    return (Step("script", True, main.returncode, main.stdout + main.stderr),
            Step("after_script", True, after.returncode, after.stdout + after.stderr))


class ArtifactStore:
    """upload-artifact and download-artifact, on a directory: an artifact is a directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def upload(self, workspace: Path, name: str, paths: list[str]) -> int:
        target = self.root / name
        for rel in paths:
            source = workspace / rel
            if source.exists():
                shutil.copytree(source, target / rel, dirs_exist_ok=True)
        return 0 if target.is_dir() else 1

    def download(self, workspace: Path, name: str, path: str = "") -> int:
        source = self.root / name
        if not source.is_dir():
            return 1  # download-artifact fails on a missing name
        shutil.copytree(source, workspace / path, dirs_exist_ok=True)
        return 0

    def act(self, workspace: Path, on_checkout: Callable[[Path], None]
            ) -> Callable[[dict[str, Any]], int]:
        def action(step: dict[str, Any]) -> int:
            uses, given = step["uses"], step.get("with") or {}
            if uses.startswith("actions/checkout@"):
                on_checkout(workspace)
                return 0
            if uses.startswith("actions/download-artifact@"):
                return self.download(workspace, given["name"], given.get("path", ""))
            if uses.startswith("actions/upload-artifact@"):
                return self.upload(workspace, given["name"], str(given["path"]).split())
            raise ValueError(f"no stand-in for {uses}")
        return action
