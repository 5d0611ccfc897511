"""The run report's view model: what a person sees of one run, independent of the files it came
from (report/load.py builds it; html_page.py and markdown_page.py render it).

Every string in it may come from the project under test or from evidence made at another site:
renderers escape all of it. Numbers are finite or None; statuses are plain text (an unknown one
is shown as it is, in a neutral colour).
"""

from __future__ import annotations

from dataclasses import dataclass

PROJECT_ENV = "project-env"  # the step before the stages that use the project environment


@dataclass(frozen=True)
class CheckState:
    id: str
    status: str
    detail: str


@dataclass(frozen=True)
class Failure:
    id: str
    status: str
    reason: str


@dataclass(frozen=True)
class Verdict:
    status: str  # PASSED | FAILED | PARTIAL | UNKNOWN (no document)
    failures: tuple[Failure, ...] = ()


@dataclass(frozen=True)
class Identity:
    run_id: str
    kind: str  # run | merge
    commit: str
    dirty: bool | None
    runner_version: str
    runner_image: str
    started: str
    ended: str


@dataclass(frozen=True)
class VerifyLine:
    name: str
    result: str
    detail: str


@dataclass(frozen=True)
class SignatureCheck:
    """The outcome of verifying the evidence with a key the reader gave (never one from inside)."""

    trusted: str  # fingerprint of the reader's key
    intact: bool  # every check but the run's own verdict passed
    lines: tuple[VerifyLine, ...]


@dataclass(frozen=True)
class Signature:
    signed: bool
    expected_signer: str  # the fingerprint the document names ("" when unsigned)
    reason: str  # why unsigned
    check: SignatureCheck | None = None  # None: no key given, nothing verified


@dataclass(frozen=True)
class StageRow:
    name: str
    status: str
    reason: str
    start: float | None  # seconds after the run started
    duration: float | None
    requires: tuple[str, ...]
    imported: bool = False
    critical: bool = False


@dataclass(frozen=True)
class TestFailure:
    id: str
    kind: str  # failure | error
    message: str


@dataclass(frozen=True)
class Tests:
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    failures: tuple[TestFailure, ...]


@dataclass(frozen=True)
class FileCoverage:
    path: str
    percent: float
    lines: int
    covered: int


@dataclass(frozen=True)
class Coverage:
    percent: float | None
    minimum: float | None
    files: tuple[FileCoverage, ...]  # worst first


@dataclass(frozen=True)
class Finding:
    line: int | None
    code: str
    message: str
    severity: str = ""


@dataclass(frozen=True)
class FileFindings:
    path: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class FindingGroup:
    tool: str  # flake8 | mypy | bandit | safety
    stage: str
    status: str  # the status of the check that judges these findings (else the stage's)
    files: tuple[FileFindings, ...]

    @property
    def count(self) -> int:
        return sum(len(f.findings) for f in self.files)


@dataclass(frozen=True)
class VulnDb:
    source: str
    source_date: str
    age_days: int | None
    max_age_days: int | None

    @property
    def old(self) -> bool:
        return (self.age_days is not None and self.max_age_days is not None
                and self.age_days > self.max_age_days)


@dataclass(frozen=True)
class BuiltFile:
    name: str
    sha256: str


@dataclass(frozen=True)
class Build:
    files: tuple[BuiltFile, ...]
    reproducible: CheckState | None


@dataclass(frozen=True)
class Image:
    image_id: str
    tag: str
    tar_size: int | None
    tar_sha256: str
    reproducible: CheckState | None


@dataclass(frozen=True)
class ServiceUp:
    name: str
    image: str
    start: float | None  # seconds after staging began (None: not recorded)
    ready_after: float | None


@dataclass(frozen=True)
class Drill:
    alert: str
    status: str
    detail: str
    prometheus_s: float | None
    alertmanager_s: float | None


@dataclass(frozen=True)
class TimedCheck:
    id: str
    status: str
    seconds: float | None
    detail: str


@dataclass(frozen=True)
class Staging:
    status: str
    reason: str
    services: tuple[ServiceUp, ...]
    checks: tuple[TimedCheck, ...]
    drills: tuple[Drill, ...]
    scrape: tuple[TimedCheck, ...]


@dataclass(frozen=True)
class Chain:
    lines: int | None  # the log's own line count (None: no readable log)
    head: str  # sha256 of its last line
    broken: str  # why the chain does not verify ("" when it does)
    document_lines: int | None  # where the document recorded the chain
    document_head: str
    sealed_lines: int | None  # what the seal records
    sealed_head: str


@dataclass(frozen=True)
class Link:
    path: str  # relative to the evidence directory (reports/... or artifacts/...)
    size: int | None
    sha256: str


@dataclass(frozen=True)
class Run:
    identity: Identity
    verdict: Verdict
    signature: Signature
    stages: tuple[StageRow, ...]
    tests: Tests | None
    coverage: Coverage | None
    findings: tuple[FindingGroup, ...]
    vulndb: VulnDb | None
    build: Build | None
    image: Image | None
    staging: Staging | None
    chain: Chain
    files: tuple[Link, ...]
    problems: tuple[str, ...]  # evidence that was there but could not be read
