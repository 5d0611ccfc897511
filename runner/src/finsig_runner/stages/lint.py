"""`lint`: flake8 over the sources -> reports/flake8-report.txt and reports/flake8-report.json."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from finsig_runner.core.context import StageContext
from finsig_runner.core.model import Check, ReportFragment, StageInputs, StageResult, Status
from finsig_runner.stages.common import (
    Draft,
    StageBase,
    config_files,
    digests,
    error,
    existing_sources,
    finish,
    first_line_version,
    listing,
    no_sources,
    now,
    python_files,
    skipped,
    runner_tool,
    runner_versions,
)

# flake8's default format, fixed here so the text report can be parsed back.
FORMAT = "%(path)s:%(row)d:%(col)d: %(code)s %(text)s"
_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[A-Z]+\d+) (?P<text>.*)$")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    col: int
    code: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}:{self.code}"


def parse(report: str) -> tuple[list[Finding], list[str]]:
    """Findings, and the lines that are not findings (flake8 warnings or crashes)."""
    findings: list[Finding] = []
    other: list[str] = []
    for raw in report.splitlines():
        match = _LINE.match(raw)
        if match:
            findings.append(
                Finding(
                    match["path"],
                    int(match["line"]),
                    int(match["col"]),
                    match["code"],
                    match["text"],
                )
            )
        elif raw.strip():
            other.append(raw)
    return findings, other


class LintStage(StageBase):
    name = "lint"
    requires: tuple[str, ...] = ()
    checks: tuple[str, ...] = ("lint.flake8",)
    always = False
    uses_project_env = False
    fragments: tuple[ReportFragment, ...] = (
        ReportFragment("reports/lint-report.txt", "flake8", "reports/flake8-report.txt"),)

    def inputs(self, ctx: StageContext) -> StageInputs:
        return StageInputs(
            files=python_files(ctx, ctx.config.sources) + config_files(ctx),
            config=(("sources", " ".join(ctx.config.sources)),),
            tools=runner_versions("flake8", "pycodestyle", "pyflakes"),
        )

    def run(self, ctx: StageContext) -> StageResult:
        started = now()
        sources = existing_sources(ctx)
        if not sources:
            return skipped(self.name, no_sources(ctx), started)
        version = ctx.run_tool([*runner_tool("flake8"), "--version"], timeout=120)
        text_report = ctx.reports / "flake8-report.txt"
        json_report = ctx.reports / "flake8-report.json"
        ctx.reports.mkdir(parents=True, exist_ok=True)
        text_report.unlink(missing_ok=True)  # flake8 leaves an old file alone when it finds nothing
        run = ctx.run_tool(
            [*runner_tool("flake8"), f"--format={FORMAT}", f"--output-file={text_report}", *sources]
        )
        if run.timed_out:
            return error(self.name, f"flake8 timed out after {run.duration:.0f}s", started)
        report = text_report.read_text(encoding="utf-8") if text_report.is_file() else ""
        findings, other = parse(report)
        # Exit 1 means findings; anything else, or exit 1 with nothing parseable: flake8 broke.
        if run.returncode not in (0, 1) or (run.returncode == 1 and not findings):
            tail = (other or run.output.strip().splitlines() or ["no output"])[-1]
            return error(self.name, f"flake8 broke (exit {run.returncode}): {tail}", started)
        counts: dict[str, int] = {}
        for finding in findings:
            counts[finding.code] = counts.get(finding.code, 0) + 1
        ctx.writer.json(
            json_report,
            {
                "tool": "flake8",
                "version": first_line_version(version.output),
                "sources": sources,
                "count": len(findings),
                "by_code": dict(sorted(counts.items())),
                "findings": [asdict(f) for f in findings],
            },
        )
        result = Draft(
            self.name,
            Status.PASSED,
            outputs=digests(ctx, [text_report, json_report]),
            summary={"findings": len(findings), "by_code": dict(sorted(counts.items()))},
            tool_versions={"flake8": first_line_version(version.output)},
        )
        if findings:
            where = listing([f.where for f in findings])
            result.status = Status.FAILED
            result.reason = f"{len(findings)} flake8 findings: {where}"
            result.checks.append(Check("lint.flake8", Status.FAILED, result.reason))
        else:
            detail = f"no findings in {', '.join(sources)}"
            result.checks.append(Check("lint.flake8", Status.PASSED, detail))
        return finish(result, started)
