"""reports/security-report.json (format finsig-security-report/1): each tool and its version, the
database's source and date, every finding, counts, the policy, the checks and the verdict."""

from __future__ import annotations

from datetime import date
from typing import Any

from finsig_runner.core.config import RunnerConfig
from finsig_runner.stages.common import now
from finsig_runner.stages.security.findings import SEVERITIES, ToolOutcome
from finsig_runner.stages.security.judgement import SecurityChecks
from finsig_runner.vulndb import Database

FORMAT = "finsig-security-report/1"


def database_json(db: Database, configured: str, today: date) -> dict[str, Any]:
    """The database as the report and the stage's summary name it (`path` as configured)."""
    meta = db.metadata
    return {
        "path": configured,
        "source": meta.source,
        "source_date": db.source_date.isoformat(),
        "built": meta.built,
        "advisories": meta.advisories,
        "packages": meta.packages,
        "age_days": db.age_days(today),
    }


def counts_json(bandit: ToolOutcome, safety: ToolOutcome) -> dict[str, Any]:
    return {
        "bandit": {s: sum(1 for f in bandit.findings if f.severity == s) for s in SEVERITIES},
        "safety": len(safety.findings),
        "total": len(bandit.findings) + len(safety.findings),
    }


def report_json(cfg: RunnerConfig, tools: tuple[ToolOutcome, ToolOutcome],
                database: dict[str, Any] | None, checks: SecurityChecks) -> dict[str, Any]:
    bandit, safety = tools
    return {
        "format": FORMAT,
        "generated": now().isoformat(),
        "tools": [bandit.to_json(), safety.to_json()],
        "database": database,
        "policy": {
            "bandit_fail_severity": cfg.bandit_fail_severity.upper(),
            "fail_on_vulnerable": cfg.fail_on_vulnerable,
            "vulndb_max_age_days": cfg.vulndb_max_age_days,
            "vulndb_age_policy": cfg.vulndb_age_policy,
        },
        "findings": [f.to_json() for f in bandit.findings + safety.findings],
        "counts": counts_json(bandit, safety),
        "checks": [c.to_json() for c in checks.checks],
        "verdict": checks.status.value,
        "reasons": checks.reasons,
        "warnings": checks.warnings,
    }
