"""Offline verification of an evidence directory (a workspace's reports/ and artifacts/).

Trusts only the public key the person verifying hands over (a PEM file outside the directory, or
a pinned fingerprint that a candidate key must match); the schema comes from the installed runner.
Given a key, the evidence must be sealed by it: every envelope present and valid. Every check
yields one Line; the first failing one is the verdict of `finsig-runner verify`. The sealer runs
the same checks without a key before it signs (evidence_failure()).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsig_runner.core import signing
from finsig_runner.core.errors import EvidenceError
from finsig_runner.core.events import GENESIS, line_hash, verify_chain
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import RunStatus
from finsig_runner.core.outputs import contained, within_evidence
from finsig_runner.evidence import document, provenance, schema
from finsig_runner.evidence.files import DOCUMENT, SEAL
from finsig_runner.evidence.writer import SEAL_PAYLOAD_TYPE


class Outcome(str, enum.Enum):
    OK = "OK"
    FAILED = "FAILED"
    NOTE = "NOTE"  # reported, not a failure (e.g. not sealed, and no key asked for it)


VERDICT = "verdict"  # the line about the run's own verdict, not about its evidence


@dataclass(frozen=True)
class Line:
    name: str
    result: Outcome
    detail: str

    def render(self, width: int = 28) -> str:
        return (f"{self.name} {'.' * max(2, width - len(self.name))} {self.result.value}  "
                f"{self.detail}")


@dataclass(frozen=True)
class Report:
    lines: tuple[Line, ...]

    @property
    def failure(self) -> Line | None:
        return next((line for line in self.lines if line.result is Outcome.FAILED), None)

    def evidence_failure(self) -> Line | None:
        """The first failing check of the evidence itself (the run's verdict aside)."""
        return next((line for line in self.lines
                     if line.result is Outcome.FAILED and line.name != VERDICT), None)


class _Stop(Exception):
    """A check whose failure leaves nothing sensible to check after it."""


@dataclass
class _Verifier:
    root: Path
    trusted: signing.PublicKey | None
    require_signature: bool
    allow_partial: bool
    lines: list[Line]
    expected: str | None = None  # the signer the document names

    def add(self, name: str, result: Outcome, detail: str) -> None:
        self.lines.append(Line(name, result, detail))

    def envelope(self, name: str, rel: str, envelope_rel: str, payload_type: str) -> None:
        """`envelope_rel` is a DSSE envelope over exactly the bytes of `rel`, by the key."""
        path, envelope = self.root / rel, self.root / envelope_rel
        if not envelope.is_file():
            wanted = self.trusted is not None or self.require_signature
            who = f" (the document expects {self.expected[:16]}…)" if self.expected else ""
            self.add(name, Outcome.FAILED if wanted else Outcome.NOTE,
                     f"not sealed: {envelope_rel} missing{who}")
            return
        if self.trusted is None:
            self.add(name, Outcome.FAILED if self.require_signature else Outcome.NOTE,
                     "sealed, but not checked: no --pubkey given")
            return
        try:
            payload = signing.verify_envelope(envelope.read_bytes(), self.trusted, payload_type)
        except signing.SignatureError as exc:
            self.add(name, Outcome.FAILED, f"{envelope_rel}: {exc}")
            return
        if payload != path.read_bytes():
            self.add(name, Outcome.FAILED, f"{rel} differs from the payload its signature covers")
            return
        self.add(name, Outcome.OK, f"{rel} sealed by {signing.fingerprint(self.trusted)}")

    def check_file(self, entry: dict[str, Any]) -> str | None:
        try:
            path = within_evidence(self.root, Path(entry["path"]))
        except EvidenceError as exc:
            return str(exc)
        if not path.is_file():
            return f"{entry['path']}: missing"
        if path.stat().st_size != entry["size"]:
            return f"{entry['path']}: size {path.stat().st_size}, listed {entry['size']}"
        if sha256_file(path) != entry["sha256"]:
            return f"{entry['path']}: sha256 differs from the listed one"
        return None


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise _Stop(f"{path.name}: not readable JSON ({exc})") from exc


def _line_hashes(path: Path) -> list[str]:
    return [line_hash(line) for line in path.read_bytes().split(b"\n")[:-1]]


def verify_evidence(root: Path, trusted: signing.PublicKey | None,
                    require_signature: bool = False, allow_partial: bool = False) -> Report:
    """Every check of an evidence directory. A trusted key always means signatures required."""
    v = _Verifier(root, trusted, require_signature or trusted is not None, allow_partial, [])
    try:
        _run(v)
    except _Stop as exc:
        v.add("stopped", Outcome.FAILED, str(exc))
    return Report(tuple(v.lines))


def _run(v: _Verifier) -> None:
    doc_path = v.root / DOCUMENT
    if not doc_path.is_file():
        v.add("document", Outcome.FAILED, f"{DOCUMENT} missing")
        raise _Stop("nothing to verify without the document")
    doc = _load_json(doc_path)
    v.add("document", Outcome.OK, f"{DOCUMENT} ({doc_path.stat().st_size} bytes)")
    problems = schema.errors(doc)
    if problems:
        v.add("schema", Outcome.FAILED, f"{len(problems)} error(s), first: {problems[0]}")
        raise _Stop("a document that breaks the schema is not read further")
    v.add("schema", Outcome.OK, "valid against ci_cd_schema.json (the runner's own copy)")
    v.expected = doc["signing"]["expected_signer"]
    _signer(v)
    v.envelope("signature (document)", DOCUMENT, DOCUMENT + ".dsse", document.PAYLOAD_TYPE)
    for step in _STEPS:
        step(v, doc)
    _verdict(v, doc)


def _signer(v: _Verifier) -> None:
    if v.trusted is None or v.expected is None:
        return
    given = signing.fingerprint(v.trusted)
    if given != v.expected:
        v.add("signer", Outcome.FAILED, f"the document expects signer {v.expected}, the key "
                                        f"given is {given}")
    else:
        v.add("signer", Outcome.OK, f"the key given is the expected signer {given[:16]}…")


def _verdict(v: _Verifier, doc: dict[str, Any]) -> None:
    status = RunStatus(doc["status"])
    if any(line.result is Outcome.FAILED for line in v.lines):
        v.add(VERDICT, Outcome.NOTE, f"the document says {status.value}, but its evidence does "
                                     "not verify")
    elif status is RunStatus.PARTIAL:
        v.add(VERDICT, Outcome.NOTE if v.allow_partial else Outcome.FAILED,
              "PARTIAL: a partial run gives no verdict (merge the jobs"
              + ("" if v.allow_partial else ", or give --allow-partial") + ")")
    elif status is RunStatus.FAILED:
        failures = doc["verdict"]["failures"] if doc["verdict"] else []
        named = ", ".join(f"{f['id']} {f['status']}" for f in failures[:3])
        v.add(VERDICT, Outcome.FAILED, f"the evidence is intact; the run FAILED: {named}")
    else:
        v.add(VERDICT, Outcome.OK, "PASSED")


def _files(v: _Verifier, doc: dict[str, Any]) -> None:
    bad = [p for p in (v.check_file(e) for e in doc["files"]) if p]
    if bad:
        v.add("files", Outcome.FAILED, f"{len(bad)} of {len(doc['files'])} differ; first: {bad[0]}")
    else:
        v.add("files", Outcome.OK, f"{len(doc['files'])} files, every size and sha256 as listed")


def _event_log(v: _Verifier, doc: dict[str, Any]) -> None:
    if doc["kind"] != "run":
        return
    listed = doc["event_log"]
    if listed is None:
        v.add("event log", Outcome.FAILED, "a run's document names no event log")
        return
    path = v.root / listed["path"]
    try:
        whole = verify_chain(contained(v.root, path))
    except (OSError, EvidenceError) as exc:
        v.add("event log", Outcome.FAILED, str(exc))
        return
    hashes = _line_hashes(path)
    n = listed["lines"]
    at = hashes[n - 1] if 0 < n <= len(hashes) else GENESIS
    if at != listed["chain_hash"]:
        v.add("event log", Outcome.FAILED, f"line {n} does not hash to the chain hash the "
                                           "document records (the log was truncated or rewritten)")
        return
    first = json.loads(path.read_bytes().split(b"\n", 1)[0])
    if first.get("run_id") != doc["run_id"]:
        named = first.get("run_id")
        v.add("event log", Outcome.FAILED, f"run_start names run {named!r}, not {doc['run_id']}")
        return
    v.add("event log", Outcome.OK, f"chain intact, {whole.lines} lines; line {n} is the "
                                   f"document's chain hash {listed['chain_hash'][:16]}…")
    _seal(v, doc, whole.lines, whole.chain_hash)
    _tail(v, doc, path, n)


def _seal(v: _Verifier, doc: dict[str, Any], lines: int, final: str) -> None:
    seal_path = v.root / SEAL
    if not seal_path.is_file():
        v.add("seal", Outcome.FAILED, f"{SEAL} missing: the end of the log is not covered")
        return
    v.envelope("signature (seal)", SEAL, SEAL + ".dsse", SEAL_PAYLOAD_TYPE)
    seal = _load_json(seal_path)
    try:
        ok = (seal["run_id"] == doc["run_id"] and seal["event_log"]["lines"] == lines
              and seal["event_log"]["chain_hash"] == final
              and seal["document_sha256"] == sha256_file(v.root / DOCUMENT))
    except (KeyError, TypeError):
        ok = False
    if not ok:
        v.add("seal", Outcome.FAILED, f"{SEAL} does not match the log's {lines} lines / final "
                                      "chain hash or the document")
        return
    v.add("seal", Outcome.OK, f"final chain hash {final[:16]}… over all {lines} lines")


def _tail(v: _Verifier, doc: dict[str, Any], log: Path, after: int) -> None:
    """Lines after the document's chain hash: what the run recorded after the document."""
    records = [json.loads(raw) for raw in log.read_bytes().split(b"\n")[after:] if raw.strip()]
    for record in records:
        if record.get("event") == "artifact":
            problem = v.check_file(record)
            if problem:
                v.add("log tail", Outcome.FAILED, f"{problem} (recorded after the document)")
                return
        ended = RunStatus(record["status"]) if record.get("event") == "run_end" else None
        passed = RunStatus(doc["status"]) is RunStatus.PASSED
        if ended is not None and passed and ended is not RunStatus.PASSED:
            v.add("log tail", Outcome.FAILED, f"the run ended {ended.value}, its document says "
                                              f"{doc['status']}: {record.get('integrity') or ''}")
            return
    v.add("log tail", Outcome.OK, f"{len(records)} lines after the document, their files as "
                                  "recorded")


def _provenance(v: _Verifier, doc: dict[str, Any]) -> None:
    prov = doc["provenance"]
    if not prov["path"]:
        v.add("provenance", Outcome.NOTE, "none written")
        return
    path = v.root / prov["path"]
    if not path.is_file():
        v.add("provenance", Outcome.FAILED, f"{prov['path']} missing")
        return
    v.envelope("signature (provenance)", prov["path"], prov["envelope"] or provenance.SIGNED_NAME,
               signing.IN_TOTO_PAYLOAD_TYPE)
    try:
        stmt = json.loads(path.read_bytes())
        subjects = {s["name"]: s["digest"]["sha256"] for s in stmt["subject"]}
        typed = (stmt["_type"] == provenance.STATEMENT_TYPE
                 and stmt["predicateType"] == provenance.PREDICATE_TYPE)
    except (ValueError, KeyError, TypeError):
        v.add("provenance", Outcome.FAILED, f"{prov['path']}: not an in-toto Statement v1")
        return
    if not typed:
        v.add("provenance", Outcome.FAILED, "not an in-toto Statement v1 with SLSA provenance v1")
        return
    for name, digest in sorted(subjects.items()):
        targets = [v.root / p for p in prov["subjects"] if p.rsplit("/", 1)[-1] == name]
        if not targets or any(not t.is_file() or sha256_file(t) != digest for t in targets):
            v.add("provenance", Outcome.FAILED, f"subject {name}: missing or sha256 differs")
            return
    v.add("provenance", Outcome.OK, f"{len(subjects)} subject(s) match: {', '.join(subjects)}")


def _jobs(v: _Verifier, doc: dict[str, Any]) -> None:
    for job in doc["jobs"]:
        try:
            log = within_evidence(v.root, Path(job["event_log"]["path"]))
            checked = verify_chain(log, job["event_log"]["chain_hash"])
        except (OSError, EvidenceError) as exc:
            v.add(f"job {job['run_id']}", Outcome.FAILED, str(exc))
            continue
        if checked.lines != job["event_log"]["lines"]:
            v.add(f"job {job['run_id']}", Outcome.FAILED,
                  f"{checked.lines} lines, listed {job['event_log']['lines']}")
            continue
        v.add(f"job {job['run_id']}", Outcome.OK,
              f"event log intact, final chain hash {checked.chain_hash[:16]}…")


_STEPS: tuple[Callable[[_Verifier, dict[str, Any]], None], ...] = (
    _files, _event_log, _provenance, _jobs)
