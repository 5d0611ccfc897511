"""safety 3.7.0 over the lock files that ship, against the offline database, with no network.

safety's stdout carries banners: the findings are read from the report it saves
(reports/security/safety.json); its exit code only tells findings (64) from a tool that broke.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finsig_runner.core.context import StageContext
from finsig_runner.stages.common import NO_NETWORK, first_line_version, resolve, runner_tool
from finsig_runner.stages.security.findings import Finding, ToolOutcome, read_report
from finsig_runner.vulndb import Database

SAFETY_FINDINGS = 64  # safety 3.7.0's exit code when it found vulnerabilities


def run_safety(ctx: StageContext, raw_dir: Path, db: Database, locks: list[str]) -> ToolOutcome:
    outcome = ToolOutcome("safety")
    # safety insists on a writable ~/.safety: give it one of its own, whoever runs the runner.
    home = ctx.workspace / ".finsig-runner" / "safety-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**NO_NETWORK, "HOME": str(home)}
    version = ctx.run_tool([*runner_tool("safety"), "--version"], env=env, timeout=120)
    lines = version.output.strip().splitlines()  # warnings first, the version last
    outcome.version = first_line_version(lines[-1] if lines else "")
    raw = raw_dir / "safety.json"
    raw.unlink(missing_ok=True)
    argv = [*runner_tool("safety"), "check", "--db", str(db.path)]
    for lock in locks:
        argv += ["-r", str(resolve(ctx, lock))]
    argv += ["--output", "json", "--save-json", str(raw)]
    run = ctx.run_tool(argv, env=env)
    report = read_report(outcome, run, raw, "vulnerabilities")
    if report is None:
        return outcome
    data, vulns = report
    meta = data.get("report_meta") or {}
    if meta.get("safety_version"):
        outcome.version = str(meta["safety_version"])
    said_found = run.returncode == SAFETY_FINDINGS
    if run.returncode not in (0, SAFETY_FINDINGS) or said_found != bool(vulns):
        outcome.error = f"exit {run.returncode} with {len(vulns)} vulnerabilities in its report"
        return outcome
    outcome.scanned = {"requirements": locks, "packages": meta.get("packages_found")}
    if any(not vuln.get("vulnerability_id") for vuln in vulns):
        outcome.error = "a finding without an advisory id: the database lacks 'pyup' ids"
        return outcome
    outcome.findings = [_finding(ctx, vuln, db) for vuln in vulns]
    return outcome


def _finding(ctx: StageContext, vuln: dict[str, Any], db: Database) -> Finding:
    vid = str(vuln["vulnerability_id"])
    aliases = list(db.aliases_of(str(vuln.get("package_name", "")), vid))
    if vuln.get("CVE") and vuln["CVE"] not in aliases:
        aliases.append(str(vuln["CVE"]))
    requirement = vuln.get("analyzed_requirement") or {}
    advisory = str(vuln.get("advisory") or "").strip().splitlines()
    return Finding(
        tool="safety",
        severity=_severity(vuln.get("severity")),
        id=vid,
        title=advisory[0] if advisory else "",
        location=_relative(ctx, str(requirement.get("found", ""))),
        package=f"{vuln.get('package_name')}=={vuln.get('analyzed_version')}",
        aliases=tuple(aliases),
        extra={
            "vulnerable_spec": vuln.get("vulnerable_spec", []),
            "fixed_versions": vuln.get("fixed_versions", []),
            "more_info_url": vuln.get("more_info_url", ""),
        },
    )


def _severity(severity: Any) -> str:
    if isinstance(severity, dict):
        for key in ("cvssv3", "cvssv2"):
            cvss = severity.get(key)
            if isinstance(cvss, dict) and cvss.get("base_severity"):
                return str(cvss["base_severity"]).upper()
    return "UNKNOWN"


def _relative(ctx: StageContext, path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ctx.workspace.resolve()))
    except ValueError:
        return path
