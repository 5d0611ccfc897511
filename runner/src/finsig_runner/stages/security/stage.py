"""`security`: bandit over the sources, safety over what ships, one normalised report.

reports/security-report.json holds each tool and its version, the database's source and date, every
finding (severity, file:line or package==version, advisory id and aliases), counts and the policy
verdict. The raw tool reports stay beside it in reports/security/. Verdicts come from the parsed
JSON; exit codes only tell a tool that broke from one that found something.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from finsig_runner.core.context import StageContext
from finsig_runner.core.model import StageInputs, StageResult, Status
from finsig_runner.stages.common import (
    Draft,
    StageBase,
    config_files,
    digests,
    finish,
    now,
    python_files,
    resolve,
    runner_versions,
)
from finsig_runner.stages.security.bandit_scan import run_bandit
from finsig_runner.stages.security.findings import ToolOutcome
from finsig_runner.stages.security.judgement import (
    SecurityChecks,
    judge_age,
    judge_bandit,
    judge_safety,
)
from finsig_runner.stages.security.report import counts_json, database_json, report_json
from finsig_runner.stages.security.safety_scan import run_safety
from finsig_runner.vulndb import Database, VulnDbError, open_database


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
        checks = SecurityChecks()
        bandit = run_bandit(ctx, raw_dir)
        judge_bandit(cfg.bandit_fail_severity, bandit, checks)
        db, safety = self._dependencies(ctx, raw_dir, checks)
        database = database_json(db, cfg.vulndb, self.clock()) if db is not None else None
        report = ctx.reports / "security-report.json"
        ctx.writer.json(report, report_json(cfg, (bandit, safety), database, checks))
        outputs = [report] + [p for p in (bandit.raw, safety.raw) if p is not None]
        result = Draft(
            self.name,
            checks.status,
            "; ".join(checks.reasons),
            checks=checks.checks,
            outputs=digests(ctx, outputs),
            summary={"findings": counts_json(bandit, safety), "warnings": checks.warnings,
                     "database": database},
            tool_versions={t.name: t.version for t in (bandit, safety) if t.version},
        )
        return finish(result, started)

    def _dependencies(
        self, ctx: StageContext, raw_dir: Path, checks: SecurityChecks
    ) -> tuple[Database | None, ToolOutcome]:
        """safety over the locks that ship, against the offline database, judged by policy."""
        cfg = ctx.config
        locks = [r for r in cfg.requirements if resolve(ctx, r).is_file()]
        if not locks:
            safety = ToolOutcome("safety")
            safety.skipped = f"no lock file to scan ({', '.join(cfg.requirements) or 'none set'})"
            checks.add("security.dependencies", Status.SKIPPED, safety.skipped)
            checks.add("security.vulndb", Status.SKIPPED, "no dependencies to scan")
            return None, safety
        try:
            db = open_database(resolve(ctx, cfg.vulndb))
        except VulnDbError as exc:
            checks.add("security.vulndb", Status.ERROR, str(exc))
            checks.add("security.dependencies", Status.ERROR, "no usable vulnerability database")
            return None, ToolOutcome("safety")
        judge_age(cfg, db, self.clock(), checks)
        safety = run_safety(ctx, raw_dir, db, locks)
        judge_safety(cfg.fail_on_vulnerable, safety, checks)
        return db, safety
