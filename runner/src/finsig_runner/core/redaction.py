"""Secrets never written: every text the run writes passes through one Redactor.

A secret is the value of an environment variable named by `secret_env` (and, for the sealer, the
signing key itself). It is caught in each form it could take in a report: raw, JSON-escaped
(with and without `\\uXXXX` for non-ASCII), URL-encoded, and base64 (standard and URL-safe) at
each of the three byte alignments a value can have inside a longer encoded blob. Text is replaced
by `[redacted:NAME]`; binary artifacts (wheels, tars) are never rewritten, only scanned
(`find_in_file`), and a hit fails the run.

A value shorter than MIN_LENGTH characters is not treated as a secret: replacing every "1" or "on"
in every log would destroy the logs and protect nothing. Encoded forms shorter than MIN_FORM are
dropped for the same reason (a base64 form of a short value at an awkward alignment).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, quote_plus

MIN_LENGTH = 4
MIN_FORM = 8
CHUNK = 1 << 20

# The usual CI and registry tokens: redacted whether or not a project lists them.
DEFAULT_SECRET_ENV: tuple[str, ...] = (
    "FINSIG_RUNNER_SIGNING_KEY", "FINSIG_SIGNING_KEY", "GITHUB_TOKEN", "GH_TOKEN",
    "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL", "CI_JOB_TOKEN", "CI_JOB_JWT", "CI_JOB_JWT_V2",
    "CI_REGISTRY_PASSWORD", "CI_DEPLOY_PASSWORD", "CI_BUILD_TOKEN", "DOCKER_AUTH_CONFIG",
    "REGISTRY_PASSWORD", "PYPI_TOKEN", "TWINE_PASSWORD", "NPM_TOKEN", "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)


def _base64_forms(raw: bytes) -> set[bytes]:
    """The part of base64(…raw…) that depends only on `raw`, at offsets 0, 1 and 2 mod 3."""
    forms: set[bytes] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            encoded = encode(b"\0" * offset + raw)
            start = 4 if offset else 0  # the first group mixes in the bytes before the value
            stop = 4 * ((offset + len(raw)) // 3)  # the last partial group mixes in what follows
            forms.add(encoded[start:stop].rstrip(b"="))
    return forms


def forms_of(value: str | bytes) -> set[bytes]:
    """Every byte string under which `value` may appear in a written file (a bytes value: raw
    and base64 only)."""
    raw = value if isinstance(value, bytes) else value.encode()
    found = {raw, *_base64_forms(raw)}
    if isinstance(value, bytes):
        return {form for form in found if len(form) >= MIN_FORM or form == raw}
    for ascii_only in (True, False):
        found.add(json.dumps(value, ensure_ascii=ascii_only)[1:-1].encode())
    found.update({quote(value, safe="").encode(), quote(value).encode(),
                  quote_plus(value).encode()})
    return {form for form in found if len(form) >= MIN_FORM or form == raw}


@dataclass(frozen=True)
class Needle:
    name: str
    form: bytes


class Redactor:
    """Replaces secret values (in every form) in text; finds them in files."""

    def __init__(self, secrets: Mapping[str, str | bytes]) -> None:
        needles = {Needle(name, form) for name, value in secrets.items()
                   if len(value) >= MIN_LENGTH for form in forms_of(value)}
        # Longest first: a form that contains another must be replaced whole.
        self.needles = tuple(sorted(needles, key=lambda n: (-len(n.form), n.name, n.form)))
        self.names = tuple(sorted({n.name for n in self.needles}))
        self.longest = max((len(n.form) for n in self.needles), default=0)

    @classmethod
    def from_env(cls, names: Iterable[str], environ: Mapping[str, str] | None = None,
                 extra: Mapping[str, str | bytes] | None = None) -> Redactor:
        env = os.environ if environ is None else environ
        secrets: dict[str, str | bytes] = {
            name: env[name] for name in (*DEFAULT_SECRET_ENV, *names) if env.get(name)}
        secrets.update(extra or {})
        return cls(secrets)

    def __bool__(self) -> bool:
        return bool(self.needles)

    def data(self, blob: bytes) -> bytes:
        for needle in self.needles:
            if needle.form in blob:
                blob = blob.replace(needle.form, f"[redacted:{needle.name}]".encode())
        return blob

    def text(self, text: str) -> str:
        if not self.needles:
            return text
        return self.data(text.encode("utf-8", errors="surrogateescape")).decode(
            "utf-8", errors="replace")

    def json(self, value: Any) -> Any:
        """A JSON value with every string (keys too) redacted."""
        if not self.needles:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (list, tuple)):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.json(v) for k, v in value.items()}
        return value

    def find(self, blob: bytes) -> set[str]:
        return {n.name for n in self.needles if n.form in blob}

    def find_in_file(self, path: Path) -> set[str]:
        """Names whose value occurs in the file in any form, read in chunks (tars are large)."""
        found: set[str] = set()
        if not self.needles:
            return found
        overlap = self.longest - 1
        tail = b""
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                window = tail + chunk
                found |= self.find(window)
                tail = window[-overlap:] if overlap else b""
        return found

    def scan(self, roots: Iterable[Path]) -> list[tuple[Path, str]]:
        """(file, name) for every file under `roots` that holds a secret in any form."""
        return [(path, name) for path in _files(roots) for name in sorted(self.find_in_file(path))]


class RedactingStream:
    """A binary sink that redacts what passes through it, even a secret split across writes.

    It holds back the last `longest - 1` bytes of what it was given (a secret may continue in
    the next write) and releases them on flush_all()/close().
    """

    def __init__(self, sink: BinaryIO, redactor: Redactor) -> None:
        self._sink = sink
        self._redactor = redactor
        self._held = b""

    def write(self, data: bytes) -> None:
        window = self._held + data
        keep = max(0, self._redactor.longest - 1)
        if len(window) <= keep:
            self._held = window
            return
        cut = self._safe_cut(window, len(window) - keep)
        self._sink.write(self._redactor.data(window[:cut]))
        self._held = window[cut:]

    def _safe_cut(self, window: bytes, cut: int) -> int:
        """Move the cut back to the start of any secret form that straddles it."""
        moved = True
        while moved:
            moved = False
            for needle in self._redactor.needles:
                start = window.find(needle.form, max(0, cut - len(needle.form) + 1))
                if 0 <= start < cut < start + len(needle.form):
                    cut, moved = start, True
        return cut

    def flush_all(self) -> None:
        self._sink.write(self._redactor.data(self._held))
        self._held = b""
        self._sink.flush()

    def close(self) -> None:
        self.flush_all()
        self._sink.close()


def _files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if root.is_dir():
            yield from sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
