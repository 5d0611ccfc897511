"""`validate`: the run's verdict, written as signed, schema-valid evidence. Runs last and always.

It reads the run back from its own event log (the record every stage's result is checked against),
makes the SBOMs and the provenance, writes artifacts/artifact-validation.json (+ .dsse) and checks
it against schemas/ci_cd_schema.json. After the run's final log line the engine calls seal_run(),
which writes artifacts/event-log-seal.json (+ .dsse) with the log's final chain hash.
See docs/evidence.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from finsig_runner import __version__
from finsig_runner.core.context import StageContext
from finsig_runner.core.errors import EvidenceError
from finsig_runner.core.events import rfc3339, utc_now, verify
from finsig_runner.evidence import document, gitinfo
from finsig_runner.core import redaction
from finsig_runner.stages.validate import runner_image, sbom
from finsig_runner.evidence.collect import DOCUMENT, LOG, RunRecord, StageRecord, read_run
from finsig_runner.evidence.writer import PUBLIC_KEY
from finsig_runner.evidence.verdict import Failure, Judgement, Policy, StageState, judge
from finsig_runner.evidence.writer import (
    Signer,
    write_document,
    write_provenance,
    write_public_key,
    write_seal,
)
from finsig_runner.core.model import Check, FileDigest, Stage, StageInputs, StageResult, Status

CHECKS = ("validate.schema", "validate.signature", "validate.sbom", "validate.secrets",
          "validate.verdict")
MakeSboms = Callable[[sbom.RunTool, Path, Sequence[Path]], tuple[sbom.Outcome, sbom.Outcome]]


def ordered(stages: Iterable[StageRecord], order: Sequence[str]) -> tuple[StageRecord, ...]:
    rank = {name: i for i, name in enumerate(order)}
    return tuple(sorted(stages, key=lambda s: (rank.get(s.name, len(rank)), s.name)))


def lock_files(ctx_root: Path, configured: Sequence[str]) -> list[Path]:
    """The configured locks plus every requirements/*.txt (the provenance's dependencies)."""
    paths = [Path(p) if Path(p).is_absolute() else ctx_root / p for p in configured]
    tier_dir = ctx_root / "requirements"
    if tier_dir.is_dir():
        paths += sorted(tier_dir.glob("*.txt"))
    seen: dict[Path, None] = {}
    for path in paths:
        if path.is_file() and path.resolve().is_relative_to(ctx_root.resolve()):
            seen.setdefault(path, None)
    return list(seen)


@dataclass
class ValidateStage:
    requires: tuple[str, ...] = ()
    declared: Mapping[str, tuple[str, ...]] | None = None  # stage -> check ids it can report
    name: str = "validate"
    checks: tuple[str, ...] = CHECKS
    always: bool = True
    uses_project_env: bool = False
    make_sboms: MakeSboms = sbom.make_both

    @classmethod
    def after(cls, stages: Iterable[Stage]) -> ValidateStage:
        """Validate requiring every other stage (so it runs last), knowing each one's checks."""
        others = [s for s in stages if s.name != "validate"]
        return cls(requires=tuple(s.name for s in others),
                   declared={s.name: tuple(s.checks) for s in others})

    def inputs(self, ctx: StageContext) -> StageInputs:
        cfg = ctx.config
        return StageInputs(
            files=tuple(lock_files(ctx.workspace, cfg.requirements)),
            config=(("required_checks", ",".join(cfg.required_checks)),
                    ("optional_checks", ",".join(cfg.optional_checks)),
                    ("allow_skipped", ",".join(cfg.allow_skipped)),
                    ("signing_key", cfg.signing_key),
                    ("require_signature", str(cfg.require_signature)),
                    ("sbom", str(cfg.sbom))),
        )

    def run(self, ctx: StageContext) -> StageResult:
        started = utc_now()
        try:
            record = read_run(ctx.workspace)
        except EvidenceError as exc:
            reason = f"the run's evidence does not verify: {exc}"
            return StageResult(self.name, Status.ERROR, reason, started=started, ended=utc_now())
        cfg = ctx.config
        root = ctx.workspace
        stages = ordered((s for s in record.stages.values() if s.name != self.name),
                         tuple(self.declared or ()))
        checks: list[Check] = []

        sbom_paths, sbom_check = self._sboms(ctx)
        checks.append(sbom_check)
        signer = Signer.from_config(cfg, root)
        if signer.key is not None:
            checks.append(Check("validate.signature", Status.PASSED, f"signed by {signer.keyid}"))
        elif signer.required:
            checks.append(Check("validate.signature", Status.FAILED,
                                f"require_signature is set: {signer.reason}"))
        else:
            checks.append(Check("validate.signature", Status.SKIPPED, f"unsigned: {signer.reason}"))
        leaks = redaction.scan([ctx.reports, ctx.artifacts], cfg.secret_env)
        if leaks:
            where = ", ".join(sorted({f"{p.relative_to(root)} ({n})" for p, n in leaks}))
            checks.append(Check("validate.secrets", Status.FAILED,
                                f"secret values found in {where}"))
        else:
            checks.append(Check("validate.secrets", Status.PASSED,
                                f"{len(cfg.secret_env)} secret variable(s) checked"))

        judgement = None if record.partial else self._judge(cfg_policy(ctx), stages, checks)
        content = self._content(ctx, record, stages, judgement, sbom_paths, signer)
        write_public_key(root, signer)
        files = document.list_files(root, root)
        prov = write_provenance(root, files, lock_files(root, cfg.requirements), content,
                                signer, [s.name for s in stages], record.mode)
        content = replace(content, provenance=prov,
                          files=tuple(document.list_files(root, root)))
        written = write_document(root, content, signer, cfg.secret_env)
        if written.errors:
            checks.insert(0, Check("validate.schema", Status.FAILED,
                                   "; ".join(written.errors[:3])))
        else:
            checks.insert(0, Check("validate.schema", Status.PASSED,
                                   "valid against ci_cd_schema.json"))
        checks.append(self._verdict_check(written.document))
        return self._result(ctx, checks, written.document, started)

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

    def _judge(self, policy: Policy, stages: Sequence[StageRecord],
               own: Sequence[Check]) -> Judgement:
        states = {s.name: StageState(s.status, s.reason) for s in stages}
        reported = {cid: (status, detail) for s in stages for cid, status, detail in s.checks}
        judgement = judge(policy, self.declared or {}, states, reported)
        extra = tuple(Failure(c.id, c.status.value, c.detail) for c in own
                      if c.status in (Status.FAILED, Status.ERROR))
        return replace(judgement, failures=judgement.failures + extra)

    def _content(self, ctx: StageContext, record: RunRecord, stages: tuple[StageRecord, ...],
                 judgement: Judgement | None, sbom_paths: dict[str, str | None],
                 signer: Signer) -> document.Content:
        cfg = ctx.config
        vulndb = Path(cfg.vulndb) if Path(cfg.vulndb).is_absolute() else ctx.workspace / cfg.vulndb
        log = verify(ctx.workspace / LOG)
        return document.Content(
            kind="run", run_id=record.run_id, runner_version=__version__,
            image_id=runner_image.image_id(),
            source=gitinfo.source(ctx.workspace), started=record.started,
            ended=rfc3339(utc_now()), partial=record.partial, stages=stages,
            judgement=judgement, allow_skipped=tuple(cfg.allow_skipped), files=(),
            vulndb=document.vulnerability_database([ctx.workspace], vulndb),
            event_log={"path": LOG, "lines": log.lines, "chain_hash": log.chain_hash},
            jobs=(), sbom=sbom_paths, provenance={"path": None, "signed": False, "subjects": []},
            signing=signer.signing(),
        )

    def _verdict_check(self, doc: Mapping[str, object]) -> Check:
        status = doc.get("status")
        if status == "PARTIAL":
            return Check("validate.verdict", Status.SKIPPED, "partial run: no verdict (merge it)")
        verdict = doc.get("verdict")
        failures = verdict.get("failures", []) if isinstance(verdict, dict) else []
        if status == "PASSED":
            return Check("validate.verdict", Status.PASSED, "every required check passed")
        named = ", ".join(f"{f['id']} {f['status']}" for f in failures[:5])
        more = f" (+{len(failures) - 5} more)" if len(failures) > 5 else ""
        return Check("validate.verdict", Status.FAILED, f"{named}{more}")

    def _result(self, ctx: StageContext, checks: list[Check], doc: Mapping[str, object],
                started: datetime) -> StageResult:
        statuses = {c.status for c in checks}
        status = (Status.ERROR if Status.ERROR in statuses
                  else Status.FAILED if Status.FAILED in statuses else Status.PASSED)
        bad = [c for c in checks if c.status in (Status.ERROR, Status.FAILED)]
        reason = "; ".join(f"{c.id}: {c.detail}" for c in bad) or f"{doc.get('status')}"
        outputs = [FileDigest.of(p, ctx.workspace) for p in self._outputs(ctx)]
        return StageResult(self.name, status, reason, checks=checks, outputs=outputs,
                           summary={"status": doc.get("status")},
                           tool_versions={"finsig-runner": __version__,
                                          "python": sys.version.split()[0]},
                           started=started, ended=utc_now())

    def _outputs(self, ctx: StageContext) -> list[Path]:
        names = [DOCUMENT, DOCUMENT + ".dsse", PUBLIC_KEY, "artifacts/provenance.intoto.jsonl",
                 "artifacts/provenance.intoto.json", sbom.APP, sbom.RUNNER]
        return [ctx.workspace / n for n in names if (ctx.workspace / n).is_file()]

    def seal_run(self, ctx: StageContext) -> None:
        """After the run's last log line: the seal with the final chain hash (see writer)."""
        log = verify(ctx.workspace / LOG)
        write_seal(ctx.workspace, ctx.run_id, log.lines, log.chain_hash,
                   Signer.from_config(ctx.config, ctx.workspace))


def cfg_policy(ctx: StageContext) -> Policy:
    return Policy.from_config(ctx.config)
