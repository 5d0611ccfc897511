"""The security stage's judgement: each check decided from the parsed reports and the policy.

ERROR (a tool or the database broke) outranks FAILED (a finding the policy refuses) outranks
PASSED; a warning is reported without failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.model import Check, Status
from finsig_runner.stages.common import listing
from finsig_runner.stages.security.findings import SEVERITIES, ToolOutcome
from finsig_runner.vulndb import Database


@dataclass
class SecurityChecks:
    """The checks so far and the warnings beside them."""

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


def judge_bandit(fail_severity: str, bandit: ToolOutcome, checks: SecurityChecks) -> None:
    threshold = fail_severity.upper()
    if threshold not in SEVERITIES:
        detail = f"bandit_fail_severity {fail_severity!r} is not low, medium or high"
        checks.add("security.bandit", Status.ERROR, detail)
    elif bandit.error:
        checks.add("security.bandit", Status.ERROR, f"bandit: {bandit.error}")
    elif bandit.skipped:
        checks.add("security.bandit", Status.SKIPPED, bandit.skipped)
    else:
        level = SEVERITIES.index(threshold)
        blocking = [f for f in bandit.findings if SEVERITIES.index(f.severity) >= level]
        if blocking:
            where = listing([f"{f.location} {f.id} {f.severity}" for f in blocking])
            detail = f"{len(blocking)} bandit findings at {threshold} or above: {where}"
            checks.add("security.bandit", Status.FAILED, detail)
        else:
            detail = f"{len(bandit.findings)} findings, none at {threshold} or above"
            checks.add("security.bandit", Status.PASSED, detail)


def judge_safety(fail_on_vulnerable: bool, safety: ToolOutcome, checks: SecurityChecks) -> None:
    count = len(safety.findings)
    if safety.error:
        checks.add("security.dependencies", Status.ERROR, f"safety: {safety.error}")
    elif safety.findings and fail_on_vulnerable:
        listed = listing([f"{f.package} {f.id}" for f in safety.findings])
        checks.add("security.dependencies", Status.FAILED,
                   f"{count} known vulnerabilities: {listed}")
    else:
        if safety.findings:
            checks.warnings.append(f"{count} known vulnerabilities; fail_on_vulnerable off")
        checks.add("security.dependencies", Status.PASSED, f"{count} known vulnerabilities")


def judge_age(cfg: RunnerConfig, db: Database, today: date, checks: SecurityChecks) -> None:
    age = db.age_days(today)
    detail = (
        f"{db.metadata.source} of {db.source_date.isoformat()}: {age} days old"
        f" (max {cfg.vulndb_max_age_days})"
    )
    if cfg.vulndb_age_policy not in ("warn", "fail"):
        policy = f"vulndb_age_policy {cfg.vulndb_age_policy!r} is not warn or fail"
        checks.add("security.vulndb", Status.ERROR, policy)
    elif age <= cfg.vulndb_max_age_days:
        checks.add("security.vulndb", Status.PASSED, detail)
    elif cfg.vulndb_age_policy == "fail":
        checks.add("security.vulndb", Status.FAILED, f"vulnerability database too old: {detail}")
    else:
        checks.warnings.append(f"vulnerability database older than allowed: {detail}")
        checks.add("security.vulndb", Status.PASSED, f"{detail}; policy warn")
