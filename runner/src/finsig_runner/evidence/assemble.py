"""The validation document, assembled one way for a run (`validate`) and for a merge of runs
(`validate --merge`): the verdict judged from the stage results, the provenance, the file list,
then artifacts/artifact-validation.json (+ its signature) through the run's one writer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from finsig_runner.core.model import FileDigest, StageResult
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.evidence import document
from finsig_runner.evidence.gitinfo import Source
from finsig_runner.evidence.verdict import Failure, Judgement, Policy, StageState, judge
from finsig_runner.evidence.writer import Written, write_document, write_provenance


def in_order(stages: Iterable[StageResult], order: Sequence[str]) -> tuple[StageResult, ...]:
    """Stages in the declared order (unknown names last, by name)."""
    rank = {name: i for i, name in enumerate(order)}
    return tuple(sorted(stages, key=lambda s: (rank.get(s.stage, len(rank)), s.stage)))


def vulnerability_database(stages: Iterable[StageResult]) -> dict[str, str] | None:
    """Source and date of the database the security stage used, from its result."""
    for result in stages:
        database = result.summary.get("database") if result.stage == "security" else None
        if isinstance(database, Mapping) and database.get("source") and database.get(
                "source_date"):
            return {"source": str(database["source"]),
                    "source_date": str(database["source_date"])}
    return None


@dataclass(frozen=True)
class Assembly:
    """Everything a validation document says, but for what assemble() derives."""

    kind: str  # run | merge
    mode: str  # the run's plan mode (full | stages | only), or merge
    run_id: str
    runner_version: str
    image_id: str | None
    source: Source
    started: str
    ended: str
    partial: bool
    stages: tuple[StageResult, ...]  # in the declared order
    declared: Mapping[str, tuple[str, ...]]  # stage -> check ids it can report
    policy: Policy
    extra_failures: tuple[Failure, ...]  # the assembler's own failing checks
    vulndb: dict[str, str] | None
    event_log: dict[str, Any] | None
    jobs: tuple[dict[str, Any], ...]
    sbom: dict[str, str | None]
    locks: tuple[Path, ...]  # the provenance's resolved dependencies
    signing: document.Signing
    socket_exposed: tuple[str, ...] = ()


def judgement_of(a: Assembly) -> Judgement | None:
    if a.partial:
        return None  # a partial run never has a verdict
    states = {s.stage: StageState(s.status, s.reason) for s in a.stages}
    reported = {c.id: (c.status, c.detail) for s in a.stages for c in s.checks}
    judged = judge(a.policy, a.declared, states, reported)
    return replace(judged, failures=judged.failures + a.extra_failures)


def assemble(root: Path, a: Assembly, files: Callable[[], list[FileDigest]],
             writer: OutputWriter) -> Written:
    """Write provenance and document under root/artifacts; `files` lists what the document
    vouches for (called again after the provenance is written, so that it is listed too)."""
    content = document.Content(
        kind=a.kind, run_id=a.run_id, runner_version=a.runner_version, image_id=a.image_id,
        source=a.source, started=a.started, ended=a.ended, partial=a.partial, stages=a.stages,
        judgement=judgement_of(a), allow_skipped=a.policy.allow_skipped, files=(),
        vulndb=a.vulndb, event_log=a.event_log, jobs=a.jobs, sbom=a.sbom,
        provenance={"path": None, "envelope": None, "subjects": []}, signing=a.signing,
        socket_exposed=a.socket_exposed,
    )
    prov = write_provenance(root, files(), list(a.locks), content,
                            [s.stage for s in a.stages], a.mode, writer)
    content = replace(content, provenance=prov, files=tuple(files()))
    return write_document(root, content, writer)
