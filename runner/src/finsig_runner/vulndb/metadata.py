"""DIR/finsig-vulndb.json: what the database was built from, when, and what was left out.

This is the writing side; finsig_runner.vulndb.reader reads it back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from finsig_runner.vulndb.model import SCHEMA_VERSION, Converted
from finsig_runner.vulndb.writer import dumps, write_atomic

METADATA = "finsig-vulndb.json"


@dataclass(frozen=True)
class Metadata:
    source: str
    source_kind: str
    source_file: str
    source_sha256: str
    source_date: str
    built: str
    schema_version: str
    converter: str
    advisories: int
    packages: int
    specifiers: int
    skipped: dict[str, int]
    licence: str
    attribution: str
    files: dict[str, str]
    considered: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "advisories": self.advisories,
            "attribution": self.attribution,
            "built": self.built,
            "considered": self.considered,
            "converter": self.converter,
            "files": self.files,
            "licence": self.licence,
            "packages": self.packages,
            "schema_version": self.schema_version,
            "skipped": self.skipped,
            "source": self.source,
            "source_date": self.source_date,
            "source_file": self.source_file,
            "source_kind": self.source_kind,
            "source_sha256": self.source_sha256,
            "specifiers": self.specifiers,
        }


def built_now() -> str:
    """RFC 3339, UTC, seconds; SOURCE_DATE_EPOCH when set, so that a rebuild is byte-identical."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = (
        datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        if epoch.isdigit()
        else datetime.now(timezone.utc)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_metadata(
    converted: Converted,
    files: dict[str, str],
    converter: str,
    considered: list[dict[str, str]],
) -> Metadata:
    source = converted.source
    return Metadata(
        source=source.label,
        source_kind=source.kind,
        source_file=source.path,
        source_sha256=source.sha256,
        source_date=source.date,
        built=built_now(),
        schema_version=SCHEMA_VERSION,
        converter=converter,
        advisories=len(converted.advisories),
        packages=len({advisory.package for advisory in converted.advisories}),
        specifiers=sum(len(advisory.specs) for advisory in converted.advisories),
        skipped=converted.skipped,
        licence=source.licence,
        attribution=source.attribution,
        files=files,
        considered=considered,
    )


def write_metadata(metadata: Metadata, out: Path) -> Path:
    path = out / METADATA
    write_atomic(path, dumps(metadata.to_json()))
    return path
