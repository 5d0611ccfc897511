"""Secrets never written: the values of the environment variables named by `secret_env`.

Every writer of logs and reports passes its text through redact(): tool output
(StageContext.run_tool), stage results (reports/stages/*.json), the event log and the validation
document. The validate stage then scans every file under reports/ and artifacts/ (scan()), so that
a value that slipped through some other path fails the run instead of leaving quietly.

A value shorter than MIN_LENGTH characters is not treated as a secret: replacing every "1" or "on"
in every log would destroy the logs and protect nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

MIN_LENGTH = 4


def secret_values(
    names: Iterable[str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """{name: value} for each named variable that is set to a value worth hiding."""
    env = os.environ if environ is None else environ
    found = {name: env.get(name, "") for name in names}
    return {name: value for name, value in found.items() if len(value) >= MIN_LENGTH}


def redact(text: str, names: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> str:
    """`text` with every secret value replaced by `[redacted:NAME]` (longest values first)."""
    values = secret_values(names, environ)
    for name, value in sorted(values.items(), key=lambda item: -len(item[1])):
        text = text.replace(value, f"[redacted:{name}]")
    return text


def redact_json(value: Any, names: Iterable[str] = (), environ: Mapping[str, str] | None = None
                ) -> Any:
    """A JSON value with every string (keys too) redacted."""
    names = tuple(names)
    if not secret_values(names, environ):
        return value
    if isinstance(value, str):
        return redact(value, names, environ)
    if isinstance(value, list):
        return [redact_json(v, names, environ) for v in value]
    if isinstance(value, dict):
        return {redact(str(k), names, environ): redact_json(v, names, environ)
                for k, v in value.items()}
    return value


def _files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if root.is_dir():
            yield from sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def scan(roots: Iterable[Path], names: Iterable[str],
         environ: Mapping[str, str] | None = None) -> list[tuple[Path, str]]:
    """(file, variable name) for every file under `roots` that holds a secret value (as bytes)."""
    needles = {name: value.encode() for name, value in secret_values(names, environ).items()}
    if not needles:
        return []
    hits: list[tuple[Path, str]] = []
    for path in _files(roots):
        hits.extend((path, name) for name in _holds(path, needles))
    return hits


def _holds(path: Path, needles: dict[str, bytes]) -> list[str]:
    """Names whose value occurs in the file, read in chunks (image tars are large)."""
    overlap = max(len(n) for n in needles.values()) - 1
    found: set[str] = set()
    tail = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            window = tail + chunk
            found.update(name for name, needle in needles.items() if needle in window)
            tail = window[-overlap:] if overlap else b""
    return sorted(found)
