"""The verdict: PASSED only when every required check PASSED (or was CACHED, or SKIPPED where
configuration allows it). Which checks are required is configuration (fnmatch patterns over
check ids): `required_checks` (default every check), minus `optional_checks` (default
`image.reproducible`), with SKIPPED accepted only for `allow_skipped` (default none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.model import Status

OWN_STAGE = "validate"  # its checks judge the document, they are not part of the verdict


@dataclass(frozen=True)
class Policy:
    required: tuple[str, ...] = ("*",)
    optional: tuple[str, ...] = ("image.reproducible",)
    allow_skipped: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: RunnerConfig) -> Policy:
        return cls(config.required_checks, config.optional_checks, config.allow_skipped)

    def is_required(self, check_id: str) -> bool:
        return _matches(check_id, self.required) and not _matches(check_id, self.optional)

    def may_skip(self, check_id: str) -> bool:
        return _matches(check_id, self.allow_skipped)


def _matches(check_id: str, patterns: Iterable[str]) -> bool:
    return any(fnmatchcase(check_id, p) for p in patterns)


@dataclass(frozen=True)
class StageState:
    status: Status
    reason: str


@dataclass(frozen=True)
class Failure:
    id: str
    status: str  # FAILED | ERROR | SKIPPED | ABORTED | MISSING
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class Judgement:
    required: tuple[str, ...]
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def judge(
    policy: Policy,
    declared: Mapping[str, tuple[str, ...]],
    stages: Mapping[str, StageState],
    checks: Mapping[str, tuple[Status, str]],
) -> Judgement:
    """`declared`: stage -> check ids it can report; `stages`: what ran (or was imported);
    `checks`: id -> (status, detail) as reported."""
    universe = {c for ids in declared.values() for c in ids} | set(checks)
    universe = {c for c in universe if c.split(".", 1)[0] != OWN_STAGE}
    required = tuple(sorted(c for c in universe if policy.is_required(c)))
    failures: list[Failure] = []
    for check_id in required:
        stage = check_id.split(".", 1)[0]
        if check_id in checks:
            status, reason = checks[check_id]
        elif stage in stages:
            state = stages[stage]
            status = state.status
            reason = f"not reported; stage {stage} {state.status.value}"
            if state.reason:
                reason += f": {state.reason}"
            if status.ok:
                failures.append(Failure(check_id, "MISSING", reason))
                continue
        else:
            failures.append(Failure(check_id, "MISSING", f"stage {stage} did not run"))
            continue
        if status.ok or (status is Status.SKIPPED and policy.may_skip(check_id)):
            continue
        if status is Status.SKIPPED:
            reason = f"SKIPPED is not allowed for it (allow_skipped): {reason}"
        failures.append(Failure(check_id, status.value, reason))
    blamed = {f.id.split(".", 1)[0] for f in failures}
    for name, state in sorted(stages.items()):
        has_required = any(c.split(".", 1)[0] == name for c in required)
        if has_required and name not in blamed and state.status in (
            Status.FAILED, Status.ERROR, Status.ABORTED
        ):
            failures.append(Failure(name, state.status.value, f"stage {name}: {state.reason}"))
    return Judgement(required, tuple(failures))
