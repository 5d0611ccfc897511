"""`validate`: the run's verdict, written as signed, schema-valid evidence. Runs last and always.

It reads the run back from its own event log (the record every stage's result is checked against),
makes the SBOMs, and has the evidence assembler write the provenance and
artifacts/artifact-validation.json (+ .dsse), checked against schemas/ci_cd_schema.json. After the
run's final log line the engine calls seal(), which writes artifacts/event-log-seal.json (+ .dsse)
with the log's final chain hash. See docs/evidence.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from finsig_runner import __version__
from finsig_runner.core import signing
from finsig_runner.core.context import StageContext
from finsig_runner.core.errors import EvidenceError
from finsig_runner.core.events import rfc3339, utc_now, verify_chain
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import (
    Check,
    FileDigest,
    ReportFragment,
    RunStatus,
    Stage,
    StageInputs,
    StageResult,
    Status,
)
from finsig_runner.evidence import document, gitinfo
from finsig_runner.evidence.assemble import Assembly, assemble, in_order, vulnerability_database
from finsig_runner.evidence.files import DOCUMENT, INDEX, LOG
from finsig_runner.evidence.provenance import UNSIGNED_NAME, lock_files
from finsig_runner.evidence.reader import RunRecord, read_run
from finsig_runner.evidence.verdict import Failure, Policy
from finsig_runner.evidence.writer import write_seal
from finsig_runner.report import render_run, stage_graph
from finsig_runner.stages.validate import runner_image, sbom
from finsig_runner.vulndb import VulnDbError, read_metadata

CHECKS = ("validate.integrity", "validate.schema", "validate.signature", "validate.sbom",
          "validate.secrets", "validate.verdict")
MakeSboms = sbom.MakeSboms


@dataclass
class ValidateStage:
    requires: tuple[str, ...] = ()
    declared: Mapping[str, tuple[str, ...]] | None = None  # stage -> check ids it can report
    name: str = "validate"
    checks: tuple[str, ...] = CHECKS
    always: bool = True
    uses_project_env: bool = False
    runs_project_code: bool = False
    fragments: tuple[ReportFragment, ...] = ()
    project_code: tuple[str, ...] = ()  # the stages that run the project's own code
    make_sboms: MakeSboms = sbom.make_both
    graph: Mapping[str, tuple[str, ...]] | None = None  # for the run's page (report/)

    @classmethod
    def after(cls, stages: Iterable[Stage]) -> ValidateStage:
        """Validate requiring every other stage (so it runs last), knowing each one's checks."""
        others = [s for s in stages if s.name != "validate"]
        made = cls(requires=tuple(s.name for s in others),
                   declared={s.name: tuple(s.checks) for s in others},
                   project_code=tuple(s.name for s in others if s.runs_project_code))
        return replace(made, graph=stage_graph([*others, made]))

    def inputs(self, ctx: StageContext) -> StageInputs:
        cfg = ctx.config
        return StageInputs(
            files=tuple(lock_files(ctx.workspace, cfg.requirements)),
            config=(("required_checks", ",".join(cfg.required_checks)),
                    ("optional_checks", ",".join(cfg.optional_checks)),
                    ("allow_skipped", ",".join(cfg.allow_skipped)),
                    ("expected_signer", cfg.expected_signer),
                    ("sbom", str(cfg.sbom))),
        )

    def run(self, ctx: StageContext) -> StageResult:
        started = utc_now()
        try:
            record = read_run(ctx.workspace)
            _files_as_recorded(ctx.workspace, record)
        except EvidenceError as exc:
            reason = f"the run's evidence does not match what it recorded: {exc}"
            check = Check("validate.integrity", Status.FAILED, reason)
            return StageResult(self.name, Status.FAILED, reason, checks=(check,),
                               started=started, ended=utc_now())
        signer, signer_check = _signer(ctx)
        sbom_paths, sbom_check = self._sboms(ctx)
        checks = [Check("validate.integrity", Status.PASSED,
                        f"{len(record.outputs)} recorded files as the event log holds them"),
                  sbom_check, signer_check, _secrets_check(ctx)]
        assembly = self._assembly(ctx, record, checks, sbom_paths, signer)
        root = ctx.workspace
        written = assemble(root, assembly, lambda: document.list_files(root, root), ctx.writer)
        if written.errors:
            checks.insert(0, Check("validate.schema", Status.FAILED,
                                   "; ".join(written.errors[:3])))
        else:
            checks.insert(0, Check("validate.schema", Status.PASSED,
                                   "valid against ci_cd_schema.json"))
        checks.append(_verdict_check(written.document))
        render_run(ctx.writer, graph=self.graph)
        return self._result(ctx, checks, written.document, started)

    def _assembly(self, ctx: StageContext, record: RunRecord, checks: Sequence[Check],
                  sbom_paths: dict[str, str | None], signer: document.Signing) -> Assembly:
        stages = in_order((s for s in record.stages.values() if s.stage != self.name),
                          tuple(self.declared or ()))
        log = verify_chain(ctx.workspace / LOG)
        own = tuple(Failure(c.id, c.status.value, c.detail) for c in checks
                    if c.status in (Status.FAILED, Status.ERROR))
        return Assembly(
            kind="run", mode=record.mode, run_id=record.run_id, runner_version=__version__,
            image_id=runner_image.image_id(), source=gitinfo.source(ctx.workspace),
            started=record.started, ended=rfc3339(utc_now()), partial=record.partial,
            stages=stages, declared=self.declared or {}, policy=Policy.from_config(ctx.config),
            extra_failures=own, vulndb=vulnerability_database(stages) or _vulndb_of(ctx),
            event_log={"path": LOG, "lines": log.lines, "chain_hash": log.chain_hash},
            jobs=(), sbom=sbom_paths,
            locks=tuple(lock_files(ctx.workspace, ctx.config.requirements)), signing=signer,
            socket_exposed=_socket_exposed(stages, self.project_code),
        )

    def _sboms(self, ctx: StageContext) -> tuple[dict[str, str | None], Check]:
        if not ctx.config.sbom:
            return {"app": None, "runner": None}, Check("validate.sbom", Status.SKIPPED,
                                                        "sbom = false in the configuration")

        def run_tool(argv: Sequence[str], env: Mapping[str, str]) -> sbom.ToolResult:
            return ctx.run_tool(argv, env=env, timeout=900)

        locks = [Path(p) if Path(p).is_absolute() else ctx.workspace / p
                 for p in ctx.config.requirements]
        app, runner = self.make_sboms(run_tool, ctx.workspace, locks)
        paths = {"app": app.path, "runner": runner.path}
        problems = [f"{n}: {o.problem}" for n, o in (("app", app), ("runner", runner)) if o.problem]
        if runner.problem or (app.problem and any(p.is_file() for p in locks)):
            return paths, Check("validate.sbom", Status.ERROR, "; ".join(problems))
        detail = ", ".join(p for p in paths.values() if p) + (
            f" ({'; '.join(problems)})" if problems else "")
        return paths, Check("validate.sbom", Status.PASSED, detail)

    def _result(self, ctx: StageContext, checks: list[Check], doc: Mapping[str, object],
                started: datetime) -> StageResult:
        statuses = {c.status for c in checks}
        status = (Status.ERROR if Status.ERROR in statuses
                  else Status.FAILED if Status.FAILED in statuses else Status.PASSED)
        bad = [c for c in checks if c.status in (Status.ERROR, Status.FAILED)]
        reason = "; ".join(f"{c.id}: {c.detail}" for c in bad) or f"{doc.get('status')}"
        names = [DOCUMENT, UNSIGNED_NAME, sbom.APP, sbom.RUNNER, INDEX]
        outputs = tuple(FileDigest.of(ctx.workspace / n, ctx.workspace) for n in names
                        if (ctx.workspace / n).is_file())
        return StageResult(self.name, status, reason, checks=tuple(checks), outputs=outputs,
                           summary={"status": doc.get("status")},
                           tool_versions={"finsig-runner": __version__,
                                          "python": sys.version.split()[0]},
                           started=started, ended=utc_now())

    def seal(self, ctx: StageContext) -> None:
        """After the run's last log line: the seal file with the final chain hash (unsigned:
        `finsig-runner seal` signs it with the key the run never has)."""
        log = verify_chain(ctx.workspace / LOG)
        write_seal(ctx.workspace, ctx.run_id, log.lines, log.chain_hash, ctx.writer)


def _signer(ctx: StageContext) -> tuple[document.Signing, Check]:
    """Who is to seal this run: the configured expected signer (the run never has the key)."""
    try:
        expected = signing.expected_fingerprint(ctx.config.expected_signer, ctx.workspace)
    except signing.KeyFileError as exc:
        reason = f"expected_signer: {exc}"
        return document.Signing(None, reason), Check("validate.signature", Status.ERROR, reason)
    if expected is None:
        reason = "no expected_signer configured: the evidence stays unsigned"
        return document.Signing(None, reason), Check("validate.signature", Status.SKIPPED, reason)
    return document.Signing(expected, ""), Check(
        "validate.signature", Status.PASSED,
        f"to be sealed by {expected} (finsig-runner seal, after the run)")


def _files_as_recorded(root: Path, record: RunRecord) -> None:
    """Every file the event log records still has the recorded sha256 (EvidenceError if not)."""
    latest = {out.path: out.sha256 for out in record.outputs}  # a later record of a path wins
    changed = [path for path, digest in latest.items()
               if not (root / path).is_file() or sha256_file(root / path) != digest]
    if changed:
        raise EvidenceError(f"{', '.join(sorted(changed)[:5])} differ(s) from the event log "
                            "(rewritten after its stage ended)")


def _socket_exposed(stages: Sequence[StageResult], project_code: Sequence[str]) -> tuple[str, ...]:
    """Stages that ran the project's code while a Docker engine was reachable (threat model)."""
    reachable = bool(os.environ.get("DOCKER_HOST")) or Path("/var/run/docker.sock").exists()
    ran = {s.stage for s in stages if s.status not in (Status.SKIPPED, Status.ABORTED)}
    return tuple(n for n in project_code if n in ran) if reachable else ()


def _secrets_check(ctx: StageContext) -> Check:
    redactor = ctx.writer.redactor
    leaks = redactor.scan([ctx.reports, ctx.artifacts])
    if leaks:
        where = ", ".join(sorted({f"{p.relative_to(ctx.workspace)} ({n})" for p, n in leaks}))
        return Check("validate.secrets", Status.FAILED, f"secret values found in {where}")
    return Check("validate.secrets", Status.PASSED,
                 f"{len(redactor.names)} secret variable(s) checked")


def _verdict_check(doc: Mapping[str, object]) -> Check:
    status = RunStatus(str(doc.get("status")))
    if status is RunStatus.PARTIAL:
        return Check("validate.verdict", Status.SKIPPED, "partial run: no verdict (merge it)")
    verdict = doc.get("verdict")
    failures = verdict.get("failures", []) if isinstance(verdict, dict) else []
    if status is RunStatus.PASSED:
        return Check("validate.verdict", Status.PASSED, "every required check passed")
    named = ", ".join(f"{f['id']} {f['status']}" for f in failures[:5])
    more = f" (+{len(failures) - 5} more)" if len(failures) > 5 else ""
    return Check("validate.verdict", Status.FAILED, f"{named}{more}")


def _vulndb_of(ctx: StageContext) -> dict[str, str] | None:
    """The configured database's source and date, when no security result names them."""
    path = Path(ctx.config.vulndb)
    try:
        meta = read_metadata(path if path.is_absolute() else ctx.workspace / path, verify=False)
    except VulnDbError:  # no database, or an unreadable one: the document says null
        return None
    return {"source": meta.source, "source_date": meta.source_date}
