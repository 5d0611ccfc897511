"""The run's event log: artifacts/ci_cd_events.log, JSON lines chained by sha256.

Every line is one JSON object written with sorted keys and no spaces. It carries:
  seq   its 1-based line number,
  ts    UTC RFC 3339 timestamp (milliseconds, `Z`),
  event run_start | run_end | stage_start | stage_end | artifact | import | project_env | ...,
  prev  sha256 (hex) of the previous line's bytes (without its newline); GENESIS on the first line,
plus the event's own fields. The chain hash of a log is the sha256 of its last line (GENESIS when
empty): publishing it elsewhere (the validation document) makes truncation detectable.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from finsig_runner.core.errors import ChainBrokenError
from finsig_runner.core.redaction import Redactor

LOG_NAME = "ci_cd_events.log"
GENESIS = "0" * 64


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def encode(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class EventLog:
    """Append-only, thread-safe writer of the chained log; appending continues an existing file."""

    def __init__(self, path: Path, redactor: Redactor | None = None) -> None:
        self.path = path
        self.redactor = redactor or Redactor({})  # every line's values pass through it
        self._lock = threading.Lock()
        self._prev = GENESIS
        self._seq = 0
        if path.exists() and path.stat().st_size:
            result = verify_chain(path)  # refuse to extend a log that is already broken
            self._prev, self._seq = result.chain_hash, result.lines

    @property
    def chain_hash(self) -> str:
        """sha256 of the last line written (GENESIS before the first)."""
        with self._lock:
            return self._prev

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            record = dict(self.redactor.json(fields))
            record.update(
                seq=self._seq + 1, ts=rfc3339(utc_now()), event=event, prev=self._prev
            )
            line = encode(record)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab") as handle:
                handle.write(line + b"\n")
                handle.flush()
                os.fsync(handle.fileno())
            self._prev = line_hash(line)
            self._seq += 1
            return record


@dataclass(frozen=True)
class LogVerification:
    lines: int
    chain_hash: str


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a log already verified (see verify_chain())."""
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                record: dict[str, Any] = json.loads(raw)
                yield record


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def verify_chain(path: Path, expect_hash: str | None = None) -> LogVerification:
    """Check the whole chain. Raises ChainBrokenError naming the first line that fails.

    When line k's `prev` does not match line k-1, the line to blame is found by looking one link
    further: if line k+1 still matches line k, line k is intact and line k-1 was altered; a `seq`
    that is not k means lines were removed or inserted before line k.
    """
    data = path.read_bytes()
    if not data:
        if expect_hash not in (None, GENESIS):
            raise ChainBrokenError(f"{path}: empty log, expected chain hash {expect_hash}", 1)
        return LogVerification(0, GENESIS)
    if not data.endswith(b"\n"):
        count = data.count(b"\n") + 1
        raise ChainBrokenError(f"{path}: line {count}: incomplete (no final newline)", count)
    lines = data[:-1].split(b"\n")
    prev = GENESIS
    for number, line in enumerate(lines, start=1):
        where = f"{path}: line {number}"
        record = _parse(line)
        if record is None:
            raise ChainBrokenError(f"{where}: not a JSON object", number)
        if encode(record) != line:
            raise ChainBrokenError(f"{where}: not in canonical form (altered)", number)
        if record.get("seq") != number:
            raise ChainBrokenError(
                f"{where}: seq {record.get('seq')!r} should be {number}: lines were removed or "
                "inserted before it, or it was altered",
                number,
            )
        if record.get("prev") != prev:
            following = _parse(lines[number]) if number < len(lines) else None
            if number > 1 and following is not None and following.get("prev") == line_hash(line):
                raise ChainBrokenError(
                    f"{path}: line {number - 1}: altered (its sha256 no longer matches the prev "
                    f"recorded by line {number})",
                    number - 1,
                )
            raise ChainBrokenError(
                f"{where}: prev does not match the sha256 of "
                f"{'line ' + str(number - 1) if number > 1 else 'the genesis value'}: "
                "this line or the one before it was altered",
                number,
            )
        prev = line_hash(line)
    if expect_hash is not None and prev != expect_hash:
        raise ChainBrokenError(
            f"{path}: chain hash {prev} differs from the expected {expect_hash} "
            f"(the log was truncated or its last line changed)",
            len(lines),
        )
    return LogVerification(len(lines), prev)


def chain_hash(path: Path) -> str:
    """The final chain hash of a log (after verifying the whole chain)."""
    return verify_chain(path).chain_hash
