"""The tamper faults: evidence or a bundle changed after it was written, then checked with the
CLI as an auditor or an isolated site would (`verify`, `verify-log`, `bundle verify`).

Their expectations are in one table, TAMPER_EXPECTATIONS, kept apart from the catalogue: evidence
trust is being reworked (issue 13: sealing in a step of its own, signatures checked on merge), and
when the documented behaviour changes this table is the one place to update — from the docs,
never from what a drill observed.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from drills.context import Context
from drills.expect import Expect
from drills.leftovers import drill_labels
from drills.pipeline import LOG, Step, command, read_log, until
from drills.project import WORK, InjectionError
from finsig_runner.bundle.layout import read_layout
from finsig_runner.core import signing
from finsig_runner.core.events import encode, iter_records, line_hash
from finsig_runner.core.hashing import sha256_file

KEY_DIR = ".finsig-runner/drill-key"
REPORT = "reports/security-report.json"

TAMPER_EXPECTATIONS: dict[str, tuple[Expect, ...]] = {
    # security-report.json rewritten after `security` ended, long before `validate` read the run:
    # the event log holds the file's sha256, so validate must refuse the run's evidence (as it
    # does for a changed stage result: ERROR "the run's evidence does not verify"), naming it.
    "report-tampered": (
        Expect("run", "validate", "ERROR", 3, r"reports/security-report\.json"),
    ),
    # One line edited in place (lint's FAILED made PASSED): the chain breaks at that line.
    "event-log-tampered": (
        Expect("verify-log", None, "FAILED", 1, r"line \d+"),
        Expect("verify", None, "FAILED", 1, r"(?i)event log"),
    ),
    # The same edit with every later `prev` recomputed: the chain is whole again, so only the
    # signed chain hashes (the document's and the seal's) can tell.
    "event-log-forged": (
        Expect("verify", None, "FAILED", 1, r"(?i)(event log|seal)"),
    ),
    # One byte of images.tar flipped inside a signed bundle.
    "bundle-tampered": (
        Expect("bundle verify", None, "FAILED", 1, r"(?i)(sha256|digest)"),
    ),
}


def signing_key(ctx: Context) -> str:
    """A key pair inside the copy (.finsig-runner/ is not part of the project); the runner
    argument that signs with it. The fingerprint goes into the notes, for `verify --pubkey`."""
    files = signing.write_keypair(ctx.workspace / KEY_DIR)
    ctx.notes["fingerprint"] = files.fingerprint
    return f"signing_key=/workspace/{KEY_DIR}/{signing.PRIVATE_KEY_NAME}"


def tamper_report_after_security(ctx: Context) -> None:
    """While the run goes on: rewrite reports/security-report.json once `security` has ended."""
    run = ctx.image_run
    if not until(lambda: "security" in read_log(ctx.workspace).stages, run, 600):
        raise InjectionError("the security stage never ended while the run ran")
    path = ctx.workspace / REPORT
    before = sha256_file(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["drill_note"] = "edited after the security stage ended"
    with path.open("r+", encoding="utf-8") as handle:  # in place: owner and mode unchanged
        handle.write(json.dumps(data, indent=2))
        handle.truncate()
    ctx.notes["tampered"] = {"file": REPORT, "at_s": round(run.elapsed(), 1),
                             "stages_ended": sorted(read_log(ctx.workspace).stages),
                             "sha256_before": before, "sha256_after": sha256_file(path)}


def _edit_lint_end(log: Path, rechain: bool) -> int:
    """Make lint's stage_end say PASSED; with `rechain`, recompute every later `prev`. Returns
    the edited line's number."""
    lines = log.read_bytes().splitlines()
    target = next((i for i, raw in enumerate(lines)
                   if b'"event":"stage_end"' in raw and b'"stage":"lint"' in raw
                   and b'"status":"FAILED"' in raw), None)
    if target is None:
        raise InjectionError("no FAILED lint stage_end line in the event log to edit")
    lines[target] = lines[target].replace(b'"status":"FAILED"', b'"status":"PASSED"')
    if rechain:
        for i in range(target + 1, len(lines)):
            record = json.loads(lines[i])
            record["prev"] = line_hash(lines[i - 1])
            lines[i] = encode(record)
    log.write_bytes(b"\n".join(lines) + b"\n")
    return target + 1


def _checks(ctx: Context) -> list[Step]:
    log = ctx.workspace / LOG
    return [command("verify-log", "verify-log", str(log)),
            command("verify", "verify", str(ctx.workspace), "--pubkey",
                    str(ctx.notes["fingerprint"]))]


def tampered_log_checks(ctx: Context) -> list[Step]:
    ctx.notes["edited_line"] = _edit_lint_end(ctx.workspace / LOG, rechain=False)
    return _checks(ctx)


def forged_log_checks(ctx: Context) -> list[Step]:
    ctx.notes["edited_line"] = _edit_lint_end(ctx.workspace / LOG, rechain=True)
    return _checks(ctx)


def report_checks(ctx: Context) -> list[Step]:
    """What an auditor runs on the evidence afterwards (recorded; the table judges the run), and
    the file's sha256 as the event log and the validation document each hold it."""
    logged = [str(r.get("sha256")) for r in iter_records(ctx.workspace / LOG)
              if r.get("event") == "artifact" and r.get("path") == REPORT]
    document = ctx.workspace / "artifacts" / "artifact-validation.json"
    listed = ([str(f.get("sha256")) for f in json.loads(document.read_text()).get("files", [])
               if f.get("path") == REPORT] if document.is_file() else [])
    ctx.notes["sha256_in_event_log"], ctx.notes["sha256_in_document"] = logged, listed
    return [command("verify", "verify", str(ctx.workspace))]


def tampered_bundle(ctx: Context) -> list[Step]:
    """A small signed bundle (one tiny image of the drill's own), one byte of its images.tar
    flipped, then `bundle verify` with the pinned fingerprint."""
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bundle-", dir=WORK) as tmp:
        root = Path(tmp)
        (root / "image").mkdir()
        (root / "image" / "drill.txt").write_text(uuid.uuid4().hex + "\n")
        (root / "image" / "Dockerfile").write_text("FROM scratch\nCOPY drill.txt /drill.txt\n")
        tag = f"finsig-drill/bundle:{uuid.uuid4().hex[:8]}"
        ctx.client.images.build(path=str(root / "image"), tag=tag, network_mode="none",
                                labels=drill_labels(ctx.item), rm=True)
        try:
            export, verify = _export_flip_verify(ctx, root, tag)
        finally:  # the drill's own image: gone before anything is counted as left behind
            ctx.client.images.remove(tag)
    return [export, verify]


def _export_flip_verify(ctx: Context, root: Path, tag: str) -> tuple[Step, Step]:
    keys = signing.write_keypair(root / "keys")
    bundle = root / "finsig-bundle.tar"
    export = command("bundle export", "bundle", "export", str(bundle), "--key",
                     str(keys.private), "--images", tag)
    if export.exit_code != 0:
        raise InjectionError(f"bundle export failed: {export.output[-300:]}")
    with bundle.open("rb") as handle:
        layout = read_layout(handle, bundle.stat().st_size)
    position = layout.images_offset + layout.images_size // 2
    with bundle.open("r+b") as handle:
        handle.seek(position)
        byte = handle.read(1)
        handle.seek(position)
        handle.write(bytes([byte[0] ^ 0xFF]))
    ctx.notes["flipped"] = {"member": "images.tar", "offset": position}
    verify = command("bundle verify", "bundle", "verify", str(bundle), "--pubkey",
                     keys.fingerprint)
    return export, verify
    return [export, verify]
