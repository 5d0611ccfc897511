"""`typing`: mypy from the project environment (so the project's plugins load), with its own config.

Outputs reports/mypy-report.txt (mypy's text output) and reports/mypy-junit.xml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from finsig_runner.core.context import StageContext
from finsig_runner.core.model import Check, ReportFragment, StageInputs, StageResult, Status
from finsig_runner.stages.common import (
    Draft,
    StageBase,
    config_files,
    digests,
    error,
    existing_sources,
    existing,
    finish,
    first_line_version,
    listing,
    no_sources,
    now,
    python_files,
    runner_versions,
    skipped,
)

_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?P<severity>error|note): (?P<text>.*)$"
)
_CODE = re.compile(r"\s+\[(?P<code>[a-z0-9-]+)\]$")


@dataclass(frozen=True)
class MypyError:
    path: str
    line: int
    code: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" + (f" [{self.code}]" if self.code else "")


def parse(output: str) -> list[MypyError]:
    errors: list[MypyError] = []
    for raw in output.splitlines():
        match = _LINE.match(raw)
        if not match or match["severity"] != "error":
            continue
        text = match["text"]
        code_match = _CODE.search(text)
        code = code_match["code"] if code_match else ""
        if code_match:
            text = text[: code_match.start()]
        errors.append(MypyError(match["path"], int(match["line"]), code, text))
    return errors


class TypingStage(StageBase):
    name = "typing"
    requires: tuple[str, ...] = ()
    checks: tuple[str, ...] = ("typing.mypy",)
    always = False
    uses_project_env = True
    runs_project_code = True
    fragments: tuple[ReportFragment, ...] = (
        ReportFragment("reports/lint-report.txt", "mypy", "reports/mypy-report.txt"),)

    def inputs(self, ctx: StageContext) -> StageInputs:
        return StageInputs(
            files=python_files(ctx, ctx.config.sources)
            + config_files(ctx)
            + existing(ctx, (*ctx.config.requirements, *ctx.config.test_requirements)),
            config=(("sources", " ".join(ctx.config.sources)),),
            tools=runner_versions("mypy"),
        )

    def run(self, ctx: StageContext) -> StageResult:
        started = now()
        sources = existing_sources(ctx)
        if not sources:
            return skipped(self.name, no_sources(ctx), started)
        python = ctx.project_tool("python")
        version = ctx.run_tool([python, "-m", "mypy", "--version"], timeout=120)
        if version.returncode != 0:
            return error(self.name, "mypy is not installed in the project environment", started)
        text_report = ctx.reports / "mypy-report.txt"
        junit = ctx.reports / "mypy-junit.xml"
        ctx.reports.mkdir(parents=True, exist_ok=True)
        junit.unlink(missing_ok=True)
        cache = ctx.workspace / ".finsig-runner" / "mypy-cache"
        run = ctx.run_tool(
            [
                python, "-m", "mypy",
                "--no-color-output", "--no-error-summary", "--show-error-codes", "--no-pretty",
                f"--cache-dir={cache}", f"--junit-xml={junit}",
                *sources,
            ]
        )
        if run.timed_out:
            return error(self.name, f"mypy timed out after {run.duration:.0f}s", started)
        ctx.writer.text(text_report, run.output)
        errors = parse(run.output)
        # mypy: 0 clean, 1 type errors, 2 crash or bad usage/config.
        if run.returncode not in (0, 1) or (run.returncode == 1 and not errors):
            tail = (run.output.strip().splitlines() or ["no output"])[-1]
            return error(self.name, f"mypy broke (exit {run.returncode}): {tail}", started)
        json_report = ctx.reports / "mypy-report.json"
        ctx.writer.json(
            json_report,
            {
                "tool": "mypy",
                "version": first_line_version(version.output),
                "sources": sources,
                "count": len(errors),
                "errors": [
                    {"path": e.path, "line": e.line, "code": e.code, "text": e.text} for e in errors
                ],
            },
        )
        result = Draft(
            self.name,
            Status.PASSED,
            outputs=digests(ctx, [text_report, junit, json_report]),
            summary={"errors": len(errors), "files": len({e.path for e in errors})},
            tool_versions={"mypy": first_line_version(version.output)},
        )
        if errors:
            result.status = Status.FAILED
            result.reason = f"{len(errors)} mypy errors: {listing([e.where for e in errors])}"
            result.checks.append(Check("typing.mypy", Status.FAILED, result.reason))
        else:
            detail = f"no errors in {', '.join(sources)}"
            result.checks.append(Check("typing.mypy", Status.PASSED, detail))
        return finish(result, started)
