"""The one writer of everything the runner puts into reports/ and artifacts/.

Every text goes through the run's Redactor here and nowhere else; every path must stay inside
the workspace's reports/ or artifacts/ (no `..`, no symlink leading out); files are written whole
(a temporary file renamed into place), so a reader never sees half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from finsig_runner.core.errors import EvidenceError
from finsig_runner.core.redaction import Redactor, RedactingStream

OUTPUT_DIRS = ("reports", "artifacts")


def encode_json(data: Any) -> str:
    """The runner's one JSON layout for reports: indent 2, sorted keys, UTF-8, final newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def contained(workspace: Path, path: Path) -> Path:
    """`path` resolved, when it lies inside workspace/reports or workspace/artifacts.

    Raises EvidenceError naming the path otherwise (an absolute path elsewhere, `..`, or a
    symlink whose target leaves those directories).
    """
    root = workspace.resolve()
    full = (path if path.is_absolute() else root / path).resolve()
    for name in OUTPUT_DIRS:
        if full.is_relative_to(root / name) and full != root / name:
            return full
    raise EvidenceError(f"{path}: outside {root}/reports and {root}/artifacts: refused")


def within_evidence(root: Path, path: Path) -> Path:
    """`path` (relative) resolved under `root`, inside some reports/ or artifacts/ directory
    there — the run's own, or a merged job's (`jobs/one/reports/…`). Raises EvidenceError for an
    absolute path, a `..`, or a symlink that leads out."""
    if path.is_absolute() or ".." in path.parts:
        raise EvidenceError(f"{path}: not a plain relative path: refused")
    base = root.resolve()
    full = (base / path).resolve()
    if not full.is_relative_to(base):
        raise EvidenceError(f"{path}: leads outside {base}: refused")
    inside = full.relative_to(base).parts[:-1]
    if not any(part in OUTPUT_DIRS for part in inside):
        raise EvidenceError(f"{path}: not inside a reports/ or artifacts/ directory: refused")
    return full


class OutputWriter:
    """Writes the run's reports, redacted, whole, inside the output directories."""

    def __init__(self, workspace: Path, redactor: Redactor) -> None:
        self.workspace = workspace.resolve()
        self.redactor = redactor
        self._written: dict[str, str] = {}  # path relative to the workspace -> sha256 written
        self._lock = threading.Lock()

    def written(self, rel: str) -> str | None:
        """The sha256 of what this writer last wrote whole at `rel` (None: not written here)."""
        with self._lock:
            return self._written.get(rel)

    def target(self, path: Path) -> Path:
        full = contained(self.workspace, path)
        full.parent.mkdir(parents=True, exist_ok=True)
        return full

    def text(self, path: Path, text: str) -> Path:
        return self._replace(path, self.redactor.text(text).encode("utf-8"))

    def data(self, path: Path, raw: bytes) -> bytes:
        """Write bytes that are text in some encoding (a signed payload): redacted, whole.

        Returns the bytes written, which is what a signature must cover.
        """
        written = self.redactor.data(raw)
        self._replace(path, written)
        return written

    def json(self, path: Path, data: Any) -> Any:
        """Write `data` redacted; return what was written (the redacted value)."""
        written = self.redactor.json(data)
        self._replace(path, encode_json(written).encode("utf-8"))
        return written

    def append(self, path: Path, text: str) -> None:
        with self.target(path).open("ab") as handle:
            handle.write(self.redactor.text(text).encode("utf-8"))

    @contextmanager
    def stream(self, path: Path) -> Iterator[RedactingStream]:
        """Append to `path` as data arrives (tool output), redacted across chunk boundaries."""
        stream = RedactingStream(self.target(path).open("ab", buffering=0), self.redactor)
        try:
            yield stream
        finally:
            stream.close()

    def _replace(self, path: Path, data: bytes) -> Path:
        full = self.target(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{full.name}.", dir=full.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, full)
            with self._lock:
                self._written[str(full.relative_to(self.workspace))] = hashlib.sha256(
                    data).hexdigest()
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return full
