"""`security`: bandit over the sources, safety over what ships, one normalised report.

reports/security-report.json holds each tool and its version, the database's source and date, every
finding (severity, file:line or package==version, advisory id and aliases), counts and the policy
verdict. The raw tool reports stay beside it in reports/security/. Verdicts come from the parsed
JSON; exit codes only tell a tool that broke from one that found something.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from finsig_runner.core.context import StageContext
from finsig_runner.core.model import Check, StageInputs, StageResult, Status
from finsig_runner.stages.security import vulndb_reader as _vulndb
from finsig_runner.stages.common import (
    Draft,
    StageBase,
    config_files,
    digests,
    finish,
    first_line_version,
    listing,
    now,
    python_files,
    resolve,
    runner_tool,
    runner_versions,
)

SEVERITIES = ("LOW", "MEDIUM", "HIGH")
SAFETY_FINDINGS = 64  # safety 3.7.0's exit code when it found vulnerabilities
# safety must never reach the network: any attempt goes to a closed local port.
_NO_NETWORK = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}


@dataclass(frozen=True)
class Finding:
    tool: str
    severity: str
    id: str
    title: str
    location: str  # file:line for code, the lock file for a dependency
    package: str = ""  # name==version for a dependency
    aliases: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "tool": self.tool,
            "severity": self.severity,
            "id": self.id,
            "aliases": list(self.aliases),
            "title": self.title,
            "location": self.location,
        }
        if self.package:
            data["package"] = self.package
        data.update(self.extra)
        return data


@dataclass
class ToolOutcome:
    """One scanner's part: its findings, or why it could not give any."""

    name: str
    version: str = ""
    findings: list[Finding] = field(default_factory=list)
    error: str = ""
    skipped: str = ""
    raw: Path | None = None
    scanned: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.error:
            data["error"] = self.error
        if self.skipped:
            data["skipped"] = self.skipped
        if self.raw is not None:
            data["raw_report"] = self.raw.name
        data.update(self.scanned)
        return data


def _today() -> date:
    return datetime.now(UTC).date()


class SecurityStage(StageBase):
    name = "security"
    requires: tuple[str, ...] = ()
    checks: tuple[str, ...] = ("security.bandit", "security.dependencies", "security.vulndb")
    always = False
    # bandit and safety are the runner's own tools; safety reads the lock files, not an environment.
    uses_project_env = False

    def __init__(self, clock: Callable[[], date] = _today) -> None:
        self.clock = clock

    def inputs(self, ctx: StageContext) -> StageInputs:
        cfg = ctx.config
        db = resolve(ctx, cfg.vulndb)
        db_files = tuple(p for p in sorted(db.glob("*.json")) if p.is_file()) if db.is_dir() else ()
        locks = tuple(resolve(ctx, r) for r in cfg.requirements if resolve(ctx, r).is_file())
        return StageInputs(
            files=python_files(ctx, cfg.sources) + config_files(ctx) + locks + db_files,
            config=(
                ("bandit_fail_severity", cfg.bandit_fail_severity),
                ("fail_on_vulnerable", str(cfg.fail_on_vulnerable)),
                ("vulndb_max_age_days", str(cfg.vulndb_max_age_days)),
                ("vulndb_age_policy", cfg.vulndb_age_policy),
                ("today", self.clock().isoformat()),
            ),
            tools=runner_versions("bandit", "safety"),
        )

    def run(self, ctx: StageContext) -> StageResult:
        started = now()
        cfg = ctx.config
        raw_dir = ctx.reports / "security"
        raw_dir.mkdir(parents=True, exist_ok=True)
        verdict = Verdict()
        bandit = _bandit(ctx, raw_dir)
        _judge_bandit(cfg.bandit_fail_severity, bandit, verdict)
        db, safety = self._dependencies(ctx, raw_dir, verdict)

        findings = bandit.findings + safety.findings
        counts = {
            "bandit": {s: sum(1 for f in bandit.findings if f.severity == s) for s in SEVERITIES},
            "safety": len(safety.findings),
            "total": len(findings),
        }
        database = None
        if db is not None:
            database = {**db.to_json(), "path": cfg.vulndb, "age_days": db.age_days(self.clock())}
        report = ctx.reports / "security-report.json"
        ctx.writer.json(
            report,
            {
                "format": "finsig-security-report/1",
                "generated": now().isoformat(),
                "tools": [bandit.to_json(), safety.to_json()],
                "database": database,
                "policy": {
                    "bandit_fail_severity": cfg.bandit_fail_severity.upper(),
                    "fail_on_vulnerable": cfg.fail_on_vulnerable,
                    "vulndb_max_age_days": cfg.vulndb_max_age_days,
                    "vulndb_age_policy": cfg.vulndb_age_policy,
                },
                "findings": [f.to_json() for f in findings],
                "counts": counts,
                "checks": [c.to_json() for c in verdict.checks],
                "verdict": verdict.status.value,
                "reasons": verdict.reasons,
                "warnings": verdict.warnings,
            },
        )
        outputs = [report] + [p for p in (bandit.raw, safety.raw) if p is not None]
        result = Draft(
            self.name,
            verdict.status,
            "; ".join(verdict.reasons),
            checks=verdict.checks,
            outputs=digests(ctx, outputs),
            summary={"findings": counts, "warnings": verdict.warnings, "database": database},
            tool_versions={t.name: t.version for t in (bandit, safety) if t.version},
        )
        return finish(result, started)

    def _dependencies(
        self, ctx: StageContext, raw_dir: Path, verdict: Verdict
    ) -> tuple[_vulndb.VulnDB | None, ToolOutcome]:
        """safety over the locks that ship, against the offline database, judged by policy."""
        cfg = ctx.config
        safety = ToolOutcome("safety")
        locks = [r for r in cfg.requirements if resolve(ctx, r).is_file()]
        if not locks:
            safety.skipped = f"no lock file to scan ({', '.join(cfg.requirements) or 'none set'})"
            verdict.add("security.dependencies", Status.SKIPPED, safety.skipped)
            verdict.add("security.vulndb", Status.SKIPPED, "no dependencies to scan")
            return None, safety
        try:
            db = _vulndb.load(resolve(ctx, cfg.vulndb))
        except _vulndb.VulnDBError as exc:
            verdict.add("security.vulndb", Status.ERROR, str(exc))
            verdict.add("security.dependencies", Status.ERROR, "no usable vulnerability database")
            return None, safety
        self._judge_age(ctx, db, verdict)
        safety = _safety(ctx, raw_dir, db, locks)
        count = len(safety.findings)
        if safety.error:
            verdict.add("security.dependencies", Status.ERROR, f"safety: {safety.error}")
        elif safety.findings and cfg.fail_on_vulnerable:
            listed = listing([f"{f.package} {f.id}" for f in safety.findings])
            detail = f"{count} known vulnerabilities: {listed}"
            verdict.add("security.dependencies", Status.FAILED, detail)
        else:
            if safety.findings:
                verdict.warnings.append(f"{count} known vulnerabilities; fail_on_vulnerable off")
            verdict.add("security.dependencies", Status.PASSED, f"{count} known vulnerabilities")
        return db, safety

    def _judge_age(self, ctx: StageContext, db: _vulndb.VulnDB, verdict: Verdict) -> None:
        cfg = ctx.config
        age = db.age_days(self.clock())
        detail = (
            f"{db.source} of {db.source_date.isoformat()}: {age} days old"
            f" (max {cfg.vulndb_max_age_days})"
        )
        if cfg.vulndb_age_policy not in ("warn", "fail"):
            policy = f"vulndb_age_policy {cfg.vulndb_age_policy!r} is not warn or fail"
            verdict.add("security.vulndb", Status.ERROR, policy)
        elif age <= cfg.vulndb_max_age_days:
            verdict.add("security.vulndb", Status.PASSED, detail)
        elif cfg.vulndb_age_policy == "fail":
            detail = f"vulnerability database too old: {detail}"
            verdict.add("security.vulndb", Status.FAILED, detail)
        else:
            verdict.warnings.append(f"vulnerability database older than allowed: {detail}")
            verdict.add("security.vulndb", Status.PASSED, f"{detail}; policy warn")


@dataclass
class Verdict:
    """The checks so far; ERROR outranks FAILED outranks PASSED."""

    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, check_id: str, status: Status, detail: str) -> None:
        self.checks.append(Check(check_id, status, detail))

    @property
    def status(self) -> Status:
        states = {c.status for c in self.checks}
        if Status.ERROR in states:
            return Status.ERROR
        return Status.FAILED if Status.FAILED in states else Status.PASSED

    @property
    def reasons(self) -> list[str]:
        bad = [c for c in self.checks if c.status is Status.ERROR]
        bad += [c for c in self.checks if c.status is Status.FAILED]
        return [c.detail for c in bad]


def _judge_bandit(fail_severity: str, bandit: ToolOutcome, verdict: Verdict) -> None:
    threshold = fail_severity.upper()
    if threshold not in SEVERITIES:
        detail = f"bandit_fail_severity {fail_severity!r} is not low, medium or high"
        verdict.add("security.bandit", Status.ERROR, detail)
    elif bandit.error:
        verdict.add("security.bandit", Status.ERROR, f"bandit: {bandit.error}")
    elif bandit.skipped:
        verdict.add("security.bandit", Status.SKIPPED, bandit.skipped)
    else:
        level = SEVERITIES.index(threshold)
        blocking = [f for f in bandit.findings if SEVERITIES.index(f.severity) >= level]
        if blocking:
            where = listing([f"{f.location} {f.id} {f.severity}" for f in blocking])
            detail = f"{len(blocking)} bandit findings at {threshold} or above: {where}"
            verdict.add("security.bandit", Status.FAILED, detail)
        else:
            detail = f"{len(bandit.findings)} findings, none at {threshold} or above"
            verdict.add("security.bandit", Status.PASSED, detail)


def _bandit(ctx: StageContext, raw_dir: Path) -> ToolOutcome:
    outcome = ToolOutcome("bandit")
    sources = [s for s in ctx.config.sources if resolve(ctx, s).exists()]
    if not sources:
        outcome.skipped = f"no sources: none of {', '.join(ctx.config.sources)} exist"
        return outcome
    version = ctx.run_tool([*runner_tool("bandit"), "--version"], timeout=120)
    outcome.version = first_line_version(version.output)
    raw = raw_dir / "bandit.json"
    raw.unlink(missing_ok=True)
    argv = [*runner_tool("bandit"), "-r", *sources, "-f", "json", "-o", str(raw), "-q"]
    if _has_bandit_table(ctx.workspace / "pyproject.toml"):
        argv += ["-c", "pyproject.toml"]
    run = ctx.run_tool(argv)
    if run.timed_out:
        outcome.error = f"timed out after {run.duration:.0f}s"
        return outcome
    try:
        data = json.loads(raw.read_text(encoding="utf-8"))
        results = data["results"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        outcome.error = f"no readable JSON report (exit {run.returncode}): {exc}"
        return outcome
    outcome.raw = raw
    if run.returncode not in (0, 1) or (run.returncode == 1 and not results):
        outcome.error = f"exit {run.returncode} with {len(results)} results (see {ctx.log_path})"
        return outcome
    if data.get("errors"):
        names = [str(e.get("filename", e)) for e in data["errors"]]
        outcome.error = "could not scan: " + listing(names)
        return outcome
    totals = data.get("metrics", {}).get("_totals", {})
    outcome.scanned = {"sources": sources, "lines_scanned": totals.get("loc")}
    for item in results:
        cwe = item.get("issue_cwe") or {}
        outcome.findings.append(
            Finding(
                tool="bandit",
                severity=str(item.get("issue_severity", "UNDEFINED")).upper(),
                id=str(item.get("test_id", "")),
                title=str(item.get("issue_text", "")),
                location=f"{item.get('filename')}:{item.get('line_number')}",
                aliases=(f"CWE-{cwe['id']}",) if cwe.get("id") else (),
                extra={
                    "confidence": item.get("issue_confidence"),
                    "test_name": item.get("test_name"),
                },
            )
        )
    outcome.findings = [f for f in outcome.findings if f.severity in SEVERITIES]
    return outcome


def _safety(ctx: StageContext, raw_dir: Path, db: _vulndb.VulnDB, locks: list[str]) -> ToolOutcome:
    outcome = ToolOutcome("safety")
    # safety insists on a writable ~/.safety: give it one of its own, whoever runs the runner.
    home = ctx.workspace / ".finsig-runner" / "safety-home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**_NO_NETWORK, "HOME": str(home)}
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
    if run.timed_out:
        outcome.error = f"timed out after {run.duration:.0f}s"
        return outcome
    try:
        data = json.loads(raw.read_text(encoding="utf-8"))
        vulns = data["vulnerabilities"]
        meta = data.get("report_meta", {})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        outcome.error = f"no readable JSON report (exit {run.returncode}): {exc}"
        return outcome
    outcome.raw = raw
    if meta.get("safety_version"):
        outcome.version = str(meta["safety_version"])
    said_found = run.returncode == SAFETY_FINDINGS
    if run.returncode not in (0, SAFETY_FINDINGS) or said_found != bool(vulns):
        outcome.error = f"exit {run.returncode} with {len(vulns)} vulnerabilities in its report"
        return outcome
    outcome.scanned = {"requirements": locks, "packages": meta.get("packages_found")}
    for vuln in vulns:
        vid = str(vuln.get("vulnerability_id", ""))
        if not vid:
            outcome.error = "a finding without an advisory id: the database lacks 'pyup' ids"
            return outcome
        aliases = list(db.aliases.get(vid, []))
        if vuln.get("CVE") and vuln["CVE"] not in aliases:
            aliases.append(str(vuln["CVE"]))
        requirement = vuln.get("analyzed_requirement") or {}
        advisory = str(vuln.get("advisory") or "").strip().splitlines()
        outcome.findings.append(
            Finding(
                tool="safety",
                severity=_safety_severity(vuln.get("severity")),
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
        )
    return outcome


def _safety_severity(severity: Any) -> str:
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


def _has_bandit_table(pyproject: Path) -> bool:
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError:
        return False
    return "bandit" in data.get("tool", {})
