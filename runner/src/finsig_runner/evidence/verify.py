"""Offline verification of an evidence directory (a workspace's reports/ and artifacts/).

Trusts only the public key the person verifying hands over (a PEM file outside the directory, or
a pinned fingerprint that a candidate key must match); the schema comes from the installed runner.
Every check yields one Line; the first failing one is the verdict of `finsig-runner verify`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsig_runner.core import signing
from finsig_runner.core.errors import EvidenceError
from finsig_runner.core.events import GENESIS, line_hash, verify_chain
from finsig_runner.evidence import document, provenance, schema
from finsig_runner.evidence.files import DOCUMENT, SEAL
from finsig_runner.evidence.writer import SEAL_PAYLOAD_TYPE
from finsig_runner.core.hashing import sha256_file

OK, FAIL, NOTE = "OK", "FAILED", "NOTE"


@dataclass(frozen=True)
class Line:
    name: str
    result: str  # OK | FAILED | NOTE (reported, not a failure: e.g. UNSIGNED)
    detail: str

    def render(self, width: int = 28) -> str:
        return f"{self.name} {'.' * max(2, width - len(self.name))} {self.result}  {self.detail}"


@dataclass(frozen=True)
class Report:
    lines: tuple[Line, ...]

    @property
    def failure(self) -> Line | None:
        return next((line for line in self.lines if line.result == FAIL), None)


class _Stop(Exception):
    """A check whose failure leaves nothing sensible to check after it."""


@dataclass
class _Verifier:
    root: Path
    trusted: signing.PublicKey | None
    require_signature: bool
    lines: list[Line]

    def add(self, name: str, result: str, detail: str) -> None:
        self.lines.append(Line(name, result, detail))

    def signed_file(self, name: str, rel: str, payload_type: str, claims_signed: bool) -> None:
        """`rel` and its `.dsse` envelope: payload byte-equal to the file, signed by the key."""
        path, envelope = self.root / rel, self.root / (rel + ".dsse")
        if not envelope.is_file():
            if claims_signed:
                self.add(name, FAIL, f"{rel}.dsse missing, yet the evidence says it is signed")
            elif self.require_signature:
                self.add(name, FAIL, f"UNSIGNED ({rel}) and --require-signature was given")
            else:
                self.add(name, NOTE, f"UNSIGNED: {rel} carries no signature")
            return
        if self.trusted is None:
            result = FAIL if self.require_signature else NOTE
            self.add(name, result, "signed, but not checked: no --pubkey given")
            return
        try:
            payload = signing.verify_envelope(envelope.read_bytes(), self.trusted, payload_type)
        except signing.SignatureError as exc:
            self.add(name, FAIL, f"{rel}.dsse: {exc}")
            return
        if payload != path.read_bytes():
            self.add(name, FAIL, f"{rel} differs from the payload its signature covers")
            return
        self.add(name, OK, f"{rel} signed by {signing.fingerprint(self.trusted)}")

    def check_file(self, entry: dict[str, Any]) -> str | None:
        path = self.root / entry["path"]
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


def verify_dir(root: Path, trusted: signing.PublicKey | None,
               require_signature: bool = False) -> Report:
    v = _Verifier(root, trusted, require_signature, [])
    try:
        _run(v)
    except _Stop as exc:
        v.add("stopped", FAIL, str(exc))
    return Report(tuple(v.lines))


def _run(v: _Verifier) -> None:
    doc_path = v.root / DOCUMENT
    if not doc_path.is_file():
        v.add("document", FAIL, f"{DOCUMENT} missing")
        raise _Stop("nothing to verify without the document")
    doc = _load_json(doc_path)
    v.add("document", OK, f"{DOCUMENT} ({doc_path.stat().st_size} bytes)")
    problems = schema.errors(doc)
    if problems:
        v.add("schema", FAIL, f"{len(problems)} error(s), first: {problems[0]}")
        raise _Stop("a document that breaks the schema is not read further")
    v.add("schema", OK, "valid against ci_cd_schema.json (the runner's own copy)")
    v.signed_file("signature (document)", DOCUMENT, document.PAYLOAD_TYPE, doc["signing"]["signed"])
    for step in _STEPS:
        step(v, doc)
    status = doc["status"]
    if any(line.result == FAIL for line in v.lines):
        v.add("verdict", NOTE, f"the document says {status}, but its evidence does not verify")
    elif status == "PARTIAL":
        v.add("verdict", NOTE, "PARTIAL (a partial run: no verdict; merge the jobs)")
    elif status == "FAILED":
        failures = doc["verdict"]["failures"] if doc["verdict"] else []
        named = ", ".join(f"{f['id']} {f['status']}" for f in failures[:3])
        v.add("verdict", FAIL, f"the evidence is intact; the run FAILED: {named}")
    else:
        v.add("verdict", OK, "PASSED")


def _files(v: _Verifier, doc: dict[str, Any]) -> None:
    bad = [p for p in (v.check_file(e) for e in doc["files"]) if p]
    if bad:
        v.add("files", FAIL, f"{len(bad)} of {len(doc['files'])} differ; first: {bad[0]}")
    else:
        v.add("files", OK, f"{len(doc['files'])} files, every size and sha256 as listed")


def _event_log(v: _Verifier, doc: dict[str, Any]) -> None:
    if doc["kind"] != "run":
        return
    listed = doc["event_log"]
    if listed is None:
        v.add("event log", FAIL, "a run's document names no event log")
        return
    path = v.root / listed["path"]
    try:
        whole = verify_chain(path)
    except (OSError, EvidenceError) as exc:
        v.add("event log", FAIL, str(exc))
        return
    hashes = _line_hashes(path)
    n = listed["lines"]
    at = hashes[n - 1] if 0 < n <= len(hashes) else GENESIS
    if at != listed["chain_hash"]:
        v.add("event log", FAIL, f"line {n} does not hash to the chain hash the document "
                                 "records (the log was truncated or rewritten)")
        return
    first = json.loads(path.read_bytes().split(b"\n", 1)[0])
    if first.get("run_id") != doc["run_id"]:
        named = first.get("run_id")
        v.add("event log", FAIL, f"run_start names run {named!r}, not {doc['run_id']}")
        return
    v.add("event log", OK, f"chain intact, {whole.lines} lines; line {n} is the document's "
                           f"chain hash {listed['chain_hash'][:16]}…")
    _seal(v, doc, path, whole.lines, whole.chain_hash)
    _tail(v, path, n)


def _seal(v: _Verifier, doc: dict[str, Any], log: Path, lines: int, final: str) -> None:
    seal_path = v.root / SEAL
    if not seal_path.is_file():
        v.add("seal", FAIL, f"{SEAL} missing: the end of the log is not covered")
        return
    v.signed_file("signature (seal)", SEAL, SEAL_PAYLOAD_TYPE, doc["signing"]["signed"])
    seal = _load_json(seal_path)
    try:
        ok = (seal["run_id"] == doc["run_id"] and seal["event_log"]["lines"] == lines
              and seal["event_log"]["chain_hash"] == final
              and seal["document_sha256"] == sha256_file(v.root / DOCUMENT))
    except (KeyError, TypeError):
        ok = False
    if not ok:
        v.add("seal", FAIL, f"{SEAL} does not match the log's {lines} lines / final chain hash "
                            "or the document")
        return
    v.add("seal", OK, f"final chain hash {final[:16]}… over all {lines} lines")


def _tail(v: _Verifier, log: Path, after: int) -> None:
    """Lines after the document's chain hash: what the run recorded after the document."""
    records = [json.loads(raw) for raw in log.read_bytes().split(b"\n")[after:] if raw.strip()]
    for record in records:
        if record.get("event") == "artifact":
            path = v.root / str(record["path"])
            if not path.is_file() or sha256_file(path) != record["sha256"]:
                v.add("log tail", FAIL, f"{record['path']}: differs from the event log")
                return
    v.add("log tail", OK, f"{len(records)} lines after the document, their files as recorded")


def _provenance(v: _Verifier, doc: dict[str, Any]) -> None:
    prov = doc["provenance"]
    if not prov["path"]:
        v.add("provenance", NOTE, "none written")
        return
    path = v.root / prov["path"]
    if not path.is_file():
        v.add("provenance", FAIL, f"{prov['path']} missing")
        return
    if prov["signed"]:
        if v.trusted is None:
            v.add("provenance", FAIL if v.require_signature else NOTE,
                  "signed, but not checked: no --pubkey given")
            return
        try:
            payload = signing.verify_envelope(path.read_bytes(), v.trusted,
                                              signing.IN_TOTO_PAYLOAD_TYPE)
        except signing.SignatureError as exc:
            v.add("provenance", FAIL, f"{prov['path']}: {exc}")
            return
    else:
        payload = path.read_bytes()
        if v.require_signature:
            v.add("provenance", FAIL, "UNSIGNED and --require-signature was given")
            return
    try:
        stmt = json.loads(payload)
        subjects = {s["name"]: s["digest"]["sha256"] for s in stmt["subject"]}
        typed = (stmt["_type"] == provenance.STATEMENT_TYPE
                 and stmt["predicateType"] == provenance.PREDICATE_TYPE)
    except (ValueError, KeyError, TypeError):
        v.add("provenance", FAIL, f"{prov['path']}: not an in-toto Statement v1")
        return
    if not typed:
        v.add("provenance", FAIL, "not an in-toto Statement v1 with SLSA provenance v1")
        return
    for name, digest in sorted(subjects.items()):
        targets = [v.root / p for p in prov["subjects"] if p.rsplit("/", 1)[-1] == name]
        if not targets or any(not t.is_file() or sha256_file(t) != digest for t in targets):
            v.add("provenance", FAIL, f"subject {name}: missing or sha256 differs")
            return
    state = "signed" if prov["signed"] else "UNSIGNED"
    v.add("provenance", OK, f"{state}; {len(subjects)} subject(s) match: {', '.join(subjects)}")


def _jobs(v: _Verifier, doc: dict[str, Any]) -> None:
    for job in doc["jobs"]:
        log = v.root / job["event_log"]["path"]
        try:
            checked = verify_chain(log, job["event_log"]["chain_hash"])
        except (OSError, EvidenceError) as exc:
            v.add(f"job {job['run_id']}", FAIL, str(exc))
            continue
        if checked.lines != job["event_log"]["lines"]:
            v.add(f"job {job['run_id']}", FAIL, f"{checked.lines} lines, listed "
                                                f"{job['event_log']['lines']}")
            continue
        v.add(f"job {job['run_id']}", OK, f"event log intact, final chain hash "
                                          f"{checked.chain_hash[:16]}…")


_STEPS: tuple[Callable[[_Verifier, dict[str, Any]], None], ...] = (
    _files, _event_log, _provenance, _jobs)


def iter_render(report: Report) -> Iterator[str]:
    for line in report.lines:
        yield line.render()
