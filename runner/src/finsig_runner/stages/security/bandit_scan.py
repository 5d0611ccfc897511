"""bandit over the configured sources -> reports/security/bandit.json, read back into findings."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from finsig_runner.core.context import StageContext
from finsig_runner.stages.common import (
    existing_sources,
    first_line_version,
    listing,
    no_sources,
    runner_tool,
)
from finsig_runner.stages.security.findings import (
    SEVERITIES,
    Finding,
    ToolOutcome,
    read_report,
)


def run_bandit(ctx: StageContext, raw_dir: Path) -> ToolOutcome:
    outcome = ToolOutcome("bandit")
    sources = existing_sources(ctx)
    if not sources:
        outcome.skipped = no_sources(ctx)
        return outcome
    version = ctx.run_tool([*runner_tool("bandit"), "--version"], timeout=120)
    outcome.version = first_line_version(version.output)
    raw = raw_dir / "bandit.json"
    raw.unlink(missing_ok=True)
    argv = [*runner_tool("bandit"), "-r", *sources, "-f", "json", "-o", str(raw), "-q"]
    if _has_bandit_table(ctx.workspace / "pyproject.toml"):
        argv += ["-c", "pyproject.toml"]
    run = ctx.run_tool(argv)
    report = read_report(outcome, run, raw, "results")
    if report is None:
        return outcome
    data, results = report
    if run.returncode not in (0, 1) or (run.returncode == 1 and not results):
        outcome.error = f"exit {run.returncode} with {len(results)} results (see {ctx.log_path})"
        return outcome
    if data.get("errors"):
        names = [str(e.get("filename", e)) for e in data["errors"]]
        outcome.error = "could not scan: " + listing(names)
        return outcome
    totals = data.get("metrics", {}).get("_totals", {})
    outcome.scanned = {"sources": sources, "lines_scanned": totals.get("loc")}
    found = [_finding(item) for item in results]
    outcome.findings = [f for f in found if f.severity in SEVERITIES]
    return outcome


def _finding(item: dict[str, Any]) -> Finding:
    cwe = item.get("issue_cwe") or {}
    return Finding(
        tool="bandit",
        severity=str(item.get("issue_severity", "UNDEFINED")).upper(),
        id=str(item.get("test_id", "")),
        title=str(item.get("issue_text", "")),
        location=f"{item.get('filename')}:{item.get('line_number')}",
        aliases=(f"CWE-{cwe['id']}",) if cwe.get("id") else (),
        extra={"confidence": item.get("issue_confidence"), "test_name": item.get("test_name")},
    )


def _has_bandit_table(pyproject: Path) -> bool:
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError:
        return False
    return "bandit" in data.get("tool", {})
