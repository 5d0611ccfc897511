"""Render an evidence directory's run report: reports/index.html, and Markdown when asked.

`render_run` is what the validate stage calls (after the validation document is written);
`render` is what `finsig-runner report` calls, and also says whether the evidence verified.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from finsig_runner.core import signing
from finsig_runner.core.errors import UsageError
from finsig_runner.core.model import Stage
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.core.redaction import Redactor
from finsig_runner.evidence.verify import verify_evidence
from finsig_runner.report import html_page, markdown_page
from finsig_runner.report.load import load_run
from finsig_runner.report.model import PROJECT_ENV, SignatureCheck, VerifyLine

INDEX = "reports/index.html"
RERENDERED = "reports/index.rendered.html"  # `report DIR` beside the run's own (signed) page


@dataclass(frozen=True)
class Rendered:
    html: Path
    markdown: Path | None
    verified: bool | None  # None: no key given, nothing verified


def stage_graph(stages: Iterable[Stage]) -> dict[str, tuple[str, ...]]:
    """Each stage's prerequisites, the project-environment step included for the stages that
    use it (it is recorded in the event log like a stage)."""
    return {s.name: (*s.requires, *((PROJECT_ENV,) if s.uses_project_env else ()))
            for s in stages}


def check_signature(root: Path, trusted: signing.PublicKey) -> SignatureCheck:
    """Verify the evidence with the reader's key (signatures required): every check but the
    run's own verdict must pass for the evidence to count as intact."""
    report = verify_evidence(root, trusted, allow_partial=True)
    lines = tuple(VerifyLine(x.name, x.result.value, x.detail) for x in report.lines)
    intact = report.evidence_failure() is None
    return SignatureCheck(signing.fingerprint(trusted), intact, lines)


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a temporary file beside it, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render(directory: Path, *, trusted: signing.PublicKey | None = None,
           graph: Mapping[str, Sequence[str]] | None = None, output: Path | None = None,
           markdown: Path | None = None, secret_env: Sequence[str] = ()) -> Rendered:
    root = directory.resolve()
    if not root.is_dir():
        raise UsageError(f"{directory}: not a directory")
    if not (root / "reports").is_dir() and not (root / "artifacts").is_dir():
        raise UsageError(f"{directory}: no reports/ or artifacts/ here: give a workspace after "
                         "a run, or a copy of its reports/ and artifacts/")
    check = check_signature(root, trusted) if trusted is not None else None
    run = load_run(root, graph, check)
    page = output if output is not None else root / INDEX
    redactor = Redactor.from_env(secret_env)
    _write(page, redactor.text(html_page.render(run)))
    if markdown is not None:
        _write(markdown, redactor.text(markdown_page.render(run)))
    return Rendered(page, markdown, None if check is None else check.intact)


def render_run(writer: OutputWriter, *, graph: Mapping[str, Sequence[str]] | None = None
               ) -> Path:
    """WORKSPACE/reports/index.html from the run's evidence, through the run's own writer
    (nothing verified: the run is still open). Returns the page's path."""
    root = writer.workspace
    run = load_run(root, graph, None)
    page = root / INDEX
    writer.text(page, html_page.render(run))
    return page
