"""Reading one evidence directory's files for the report, defensively: a missing file is None, an
unreadable or oversized one is named in `problems`, and XML that declares a DTD or entities is
refused before it is parsed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # nosec B405 - DTDs are refused before parsing (see xml)
from pathlib import Path
from typing import Any

from finsig_runner.evidence.files import LOG

MAX_BYTES = 64 << 20  # a report bigger than this is not read


class EvidenceFiles:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[str] = []

    def raw(self, rel: str) -> bytes | None:
        path = self.root / rel
        if not path.is_file():
            return None
        if path.stat().st_size > MAX_BYTES:
            self.problems.append(f"{rel}: larger than {MAX_BYTES >> 20} MiB, not read")
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            self.problems.append(f"{rel}: {exc.strerror or exc}")
            return None

    def json(self, rel: str) -> Any:
        data = self.raw(rel)
        if data is None:
            return None
        try:
            return json.loads(data)
        except ValueError as exc:
            self.problems.append(f"{rel}: not readable JSON ({exc})")
            return None

    def xml(self, rel: str) -> ET.Element | None:
        data = self.raw(rel)
        if data is None:
            return None
        try:
            content = data.decode("utf-8")
        except UnicodeDecodeError:
            self.problems.append(f"{rel}: not UTF-8")
            return None
        if "<!DOCTYPE" in content or "<!ENTITY" in content:
            self.problems.append(f"{rel}: declares a DTD or entities, not read")
            return None
        try:
            return ET.fromstring(content)  # nosec B314 - no DTD, so no entity expansion
        except ET.ParseError as exc:
            self.problems.append(f"{rel}: not well-formed XML ({exc})")
            return None

    def events(self) -> list[dict[str, Any]]:
        data = self.raw(LOG) or b""
        out = []
        for line in data.splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                out.append(record)
        return out
