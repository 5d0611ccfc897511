"""The one place that reads an evidence directory's files into the view model (report/model.py).

It reads what is there: the validation document, the event log, the seal, each stage's result
and report files (JUnit, Cobertura, flake8's and mypy's JSON, the security and deploy reports).
A file that is missing leaves its part of the page out; one that is there but unreadable is named
in `Run.problems`. Nothing here trusts the files: see fields.py; XML with a DTD is refused.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # nosec B405 - only parsed by report/reading.py
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from finsig_runner.core.errors import ChainBrokenError
from finsig_runner.core.events import verify_chain
from finsig_runner.evidence.files import AFTER_DOCUMENT, DOCUMENT, LOG, SEAL
from finsig_runner.report import fields as f
from finsig_runner.report.critical import critical_path
from finsig_runner.report.reading import EvidenceFiles as _Reader
from finsig_runner.report.model import (
    PROJECT_ENV, Build, BuiltFile, Chain, CheckState, Coverage, Drill, Failure, FileCoverage,
    FileFindings, Finding, FindingGroup, Identity, Image, Link, Run, ServiceUp, Signature,
    SignatureCheck, StageRow, Staging, TestFailure, Tests, TimedCheck, Verdict, VulnDb,
)

# Never listed as evidence on the page they are on.
OWN_OUTPUTS = ("reports/index.html", "reports/index.rendered.html")
_TAR = "artifacts/docker-image.tar"


def load_run(root: Path, graph: Mapping[str, Sequence[str]] | None = None,
             check: SignatureCheck | None = None) -> Run:
    """The view of the evidence under `root`. `graph`: each stage's prerequisites (from the
    stage registry; the evidence does not record them). `check`: a verification already made."""
    r = _Reader(root)
    doc = r.json(DOCUMENT)
    doc = doc if isinstance(doc, dict) else {}
    events = r.events()
    starts = [e for e in events if e.get("event") == "run_start"]
    first = starts[0] if starts else {}
    identity = _identity(doc, first, events)
    stages = _stages(doc, events, identity.started, graph or {})
    return Run(
        identity=identity,
        verdict=_verdict(doc),
        signature=_signature(root, doc, check),
        stages=stages,
        tests=_tests(r),
        coverage=_coverage(r),
        findings=_findings(r, _statuses(doc, stages)),
        vulndb=_vulndb(r, doc, identity.started),
        build=_build(r),
        image=_image(r, doc),
        staging=_staging(r),
        chain=_chain(r, doc),
        files=_files(root, doc),
        problems=tuple(r.problems),
    )


def _identity(doc: dict[str, Any], start: dict[str, Any], events: list[dict[str, Any]]
              ) -> Identity:
    ends = [e for e in events if e.get("event") == "run_end"]
    return Identity(
        run_id=f.text(doc, "run_id") or f.text(start, "run_id"),
        kind=f.text(doc, "kind") or ("run" if start else ""),
        commit=f.text(f.obj(doc, "source"), "commit"),
        dirty=f.flag(f.obj(doc, "source"), "dirty"),
        runner_version=f.text(f.obj(doc, "runner"), "version") or f.text(start, "runner_version"),
        runner_image=f.text(f.obj(doc, "runner"), "image_id"),
        started=f.text(doc, "started") or f.text(start, "ts"),
        ended=f.text(doc, "ended") or (f.text(ends[-1], "ts") if ends else ""),
    )


def _verdict(doc: dict[str, Any]) -> Verdict:
    if not doc:
        return Verdict("UNKNOWN")
    failures = tuple(Failure(f.text(x, "id"), f.text(x, "status"), f.text(x, "reason"))
                     for x in f.items(f.obj(doc, "verdict"), "failures"))
    return Verdict(f.text(doc, "status") or "UNKNOWN", failures)


def _signature(root: Path, doc: dict[str, Any], check: SignatureCheck | None) -> Signature:
    """Sealed when the document's envelope is there (whether it verifies is `check`'s to say)."""
    signing = f.obj(doc, "signing")
    expected = f.text(signing, "expected_signer")
    sealed = bool(expected) and (root / (DOCUMENT + ".dsse")).is_file()
    reason = f.text(signing, "reason") or ("" if sealed else "not sealed yet")
    return Signature(sealed, expected, reason, check)


def _stages(doc: dict[str, Any], events: list[dict[str, Any]], run_started: str,
            graph: Mapping[str, Sequence[str]]) -> tuple[StageRow, ...]:
    """The runner's own clock (the event log's stage_start and stage_end lines) times each stage,
    set-up and clean-up included; the document's stage times where the log has none (a merge)."""
    rows: dict[str, StageRow] = {}
    begun: dict[str, str] = {}
    imported = {f.text(e, "stage") for e in events if e.get("event") == "import"}
    for event in events:
        kind, name = event.get("event"), f.text(event, "stage")
        if kind == "project_env":
            name = PROJECT_ENV
            kind = "stage_start" if event.get("phase") == "start" else "stage_end"
        if kind == "stage_start":
            begun[name] = f.text(event, "ts")
        elif kind in ("stage_end", "import") and name:
            start = begun.get(name, "")
            rows[name] = _row(name, event, start, f.text(event, "ts") if start else "",
                              run_started, graph)
    for stage in f.items(doc, "stages"):
        name = f.text(stage, "name")
        if name and name not in rows:
            rows[name] = _row(name, stage, f.text(stage, "started"), f.text(stage, "ended"),
                              run_started, graph)
    ordered = [rows[n] for n in (PROJECT_ENV, *(s for s in rows if s != PROJECT_ENV)) if n in rows]
    ordered = [replace(r, imported=r.name in imported) for r in ordered]
    critical = set(critical_path(ordered))
    return tuple(replace(r, critical=r.name in critical) for r in ordered)


def _row(name: str, record: dict[str, Any], started: str, ended: str, run_started: str,
         graph: Mapping[str, Sequence[str]]) -> StageRow:
    begin = f.seconds_between(run_started, started) if started else None
    took = f.seconds_between(started, ended) if started and ended else None
    if begin is not None and took is None:
        took = f.number(record, "duration")
    return StageRow(
        name=name, status=f.text(record, "status"), reason=f.text(record, "reason"),
        start=begin, duration=took if begin is not None else None,
        requires=tuple(str(p) for p in graph.get(name, ())),
    )


def _tests(r: _Reader) -> Tests | None:
    root = r.xml("reports/test-results.xml")
    if root is None:
        return None
    total = failed = errors = skipped = 0
    failures: list[TestFailure] = []
    for case in root.iter("testcase"):
        total += 1
        classname, name = case.get("classname", ""), case.get("name", "")
        case_id = f"{classname}::{name}" if classname else name
        for kind in ("failure", "error"):
            node = case.find(kind)
            if node is not None:
                failed += kind == "failure"
                errors += kind == "error"
                failures.append(TestFailure(case_id, kind, _message(node)))
        skipped += case.find("skipped") is not None
    return Tests(total, total - failed - errors - skipped, failed, errors, skipped,
                 tuple(failures))


def _message(node: ET.Element) -> str:
    lines = (node.get("message") or node.text or "").strip().splitlines()
    return f.text(" ".join(line.strip() for line in lines[:3]))


def _coverage(r: _Reader) -> Coverage | None:
    root = r.xml("reports/coverage.xml")
    if root is None:
        return None
    files = []
    for cls in root.iter("class"):
        lines = cls.findall("./lines/line")
        covered = sum(1 for ln in lines if (f.integer(ln.get("hits", "")) or 0) > 0)
        percent = 100.0 * covered / len(lines) if lines else 100.0
        files.append(FileCoverage(cls.get("filename", ""), percent, len(lines), covered))
    total = f.number(_float(root.get("line-rate", "")))
    result = r.json("reports/stages/tests.json")
    minimum = f.number(f.obj(result, "summary"), "coverage_min")
    return Coverage(None if total is None else 100.0 * total, minimum,
                    tuple(sorted(files, key=lambda c: (c.percent, c.path))))


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


# The check that judges each tool's findings (its stage's status stands in when it is missing).
_CHECK_OF = {"flake8": "lint.flake8", "mypy": "typing.mypy", "bandit": "security.bandit",
             "safety": "security.dependencies"}


def _statuses(doc: dict[str, Any], stages: Sequence[StageRow]) -> dict[str, str]:
    """Stage name or check id -> status."""
    found = {s.name: s.status for s in stages}
    found.update({f.text(c, "id"): f.text(c, "status") for c in f.items(doc, "checks")})
    return found


def _findings(r: _Reader, status: Mapping[str, str]) -> tuple[FindingGroup, ...]:
    groups = []
    flake8 = r.json("reports/flake8-report.json")
    if flake8 is not None:
        found = [(f.text(x, "path"), Finding(f.integer(x, "line"), f.text(x, "code"),
                                             f.text(x, "text")))
                 for x in f.items(flake8, "findings")]
        groups.append(_group("flake8", "lint", status, found))
    mypy = r.json("reports/mypy-report.json")
    if mypy is not None:
        found = [(f.text(x, "path"), Finding(f.integer(x, "line"), f.text(x, "code"),
                                             f.text(x, "text"), "error"))
                 for x in f.items(mypy, "errors")]
        groups.append(_group("mypy", "typing", status, found))
    security = r.json("reports/security-report.json")
    if security is not None:
        for tool in ("bandit", "safety"):
            found = [_security_finding(x) for x in f.items(security, "findings")
                     if f.text(x, "tool") == tool]
            groups.append(_group(tool, "security", status, found))
    return tuple(groups)


def _security_finding(x: Any) -> tuple[str, Finding]:
    location = f.text(x, "location")
    path, _, line = location.rpartition(":")
    if not (path and line.isdigit()):
        path, line = location, ""
    title = f.text(x, "title")
    package = f.text(x, "package")
    message = f"{package}: {title}" if package else title
    return path, Finding(int(line) if line else None, f.text(x, "id"), message,
                         f.text(x, "severity"))


def _group(tool: str, stage: str, status: Mapping[str, str],
           found: list[tuple[str, Finding]]) -> FindingGroup:
    by_file: dict[str, list[Finding]] = {}
    for path, finding in found:
        by_file.setdefault(path, []).append(finding)
    files = tuple(FileFindings(p, tuple(sorted(v, key=lambda x: (x.line or 0, x.code))))
                  for p, v in sorted(by_file.items()))
    return FindingGroup(tool, stage, status.get(_CHECK_OF[tool]) or status.get(stage, ""), files)


def _vulndb(r: _Reader, doc: dict[str, Any], run_started: str) -> VulnDb | None:
    report = r.json("reports/security-report.json")
    db = f.obj(report, "database") or f.obj(doc, "vulnerability_database")
    if not db:
        return None
    source_date = f.text(db, "source_date")
    age = f.integer(db, "age_days")
    started = f.moment(run_started) if run_started else None
    if age is None and started is not None:
        try:
            age = (started.date() - date.fromisoformat(source_date)).days
        except ValueError:
            age = None
    return VulnDb(f.text(db, "source"), source_date, age,
                  f.integer(f.obj(report, "policy"), "vulndb_max_age_days"))


def _check(report: Any, check_id: str) -> CheckState | None:
    for c in f.items(report, "checks"):
        if f.text(c, "id") == check_id:
            return CheckState(check_id, f.text(c, "status"), f.text(c, "detail"))
    return None


def _build(r: _Reader) -> Build | None:
    report = r.json("reports/build-report.json")
    if report is None:
        return None
    built = sorted(f.obj(report, "files").items())
    files = tuple(BuiltFile(str(name), f.text(sha)) for name, sha in built)
    return Build(files, _check(report, "build.reproducible"))


def _image(r: _Reader, doc: dict[str, Any]) -> Image | None:
    report = r.json("reports/image-report.json")
    if report is None:
        return None
    size = next((f.integer(x, "size") for x in f.items(doc, "files")
                 if f.text(x, "path") == _TAR), None)
    tar = r.root / _TAR
    if size is None and tar.is_file():
        size = tar.stat().st_size
    return Image(f.text(report, "image_id"), f.text(report, "tag"), size,
                 f.text(report, "tar_sha256"), _check(report, "image.reproducible"))


def _staging(r: _Reader) -> Staging | None:
    report = r.json("reports/deploy-report.json")
    if report is None:
        return None
    services = tuple(
        ServiceUp(str(name), f.text(s, "image"), f.number(s, "started_s"),
                  f.number(s, "ready_after_s"))
        for name, s in sorted(f.obj(report, "services").items()))
    checks, drills, scrape = [], [], []
    for c in f.items(report, "checks"):
        timed = TimedCheck(f.text(c, "id"), f.text(c, "status"), f.number(c, "seconds"),
                           f.text(c, "detail"))
        checks.append(timed)
        data = f.obj(c, "data")
        if "prometheus_s" in data or "alertmanager_s" in data:
            alert = timed.id.removeprefix("staging.alert.")
            drills.append(Drill(alert, timed.status, timed.detail, f.number(data, "prometheus_s"),
                                f.number(data, "alertmanager_s")))
        elif {"targets", "requests", "api_requests"} & set(data):  # api_requests: older runs
            scrape.append(timed)
    return Staging(f.text(report, "status"), f.text(report, "reason"), services, tuple(checks),
                   tuple(drills), tuple(scrape))


def _chain(r: _Reader, doc: dict[str, Any]) -> Chain:
    lines: int | None = None
    head = broken = ""
    if (r.root / LOG).is_file():
        try:
            checked = verify_chain(r.root / LOG)
            lines, head = checked.lines, checked.chain_hash
        except ChainBrokenError as exc:
            broken = str(exc).replace(str(r.root) + "/", "")
        except OSError as exc:
            broken = exc.strerror or str(exc)
    recorded = f.obj(doc, "event_log")
    seal = f.obj(r.json(SEAL), "event_log")
    return Chain(lines, head, broken, f.integer(recorded, "lines"), f.text(recorded, "chain_hash"),
                 f.integer(seal, "lines"), f.text(seal, "chain_hash"))


def _files(root: Path, doc: dict[str, Any]) -> tuple[Link, ...]:
    links = {f.text(x, "path"): Link(f.text(x, "path"), f.integer(x, "size"), f.text(x, "sha256"))
             for x in f.items(doc, "files") if f.text(x, "path")}
    if not links:  # no document (or an empty one): whatever is there, unhashed
        for sub in ("reports", "artifacts"):
            top = root / sub
            if top.is_dir():
                for path in sorted(p for p in top.rglob("*") if p.is_file() and not p.is_symlink()):
                    rel = path.relative_to(root).as_posix()
                    links[rel] = Link(rel, path.stat().st_size, "")
    for rel in AFTER_DOCUMENT:  # written after the document: covered by the log and the seal
        path = root / rel
        if rel not in links and path.is_file() and not path.is_symlink():
            links[rel] = Link(rel, path.stat().st_size, "")
    return tuple(links[k] for k in sorted(links) if k not in OWN_OUTPUTS)
