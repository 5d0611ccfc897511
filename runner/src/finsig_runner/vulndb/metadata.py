"""DIR/finsig-vulndb.json: what the database was built from, when, and what was left out.

The security stage reads "source" and "source_date" (and may check "files" against the database
files); `read_metadata` and `advisory_aliases` are the reading side.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from finsig_runner.vulndb.model import SCHEMA_VERSION, Converted, VulnDbError
from finsig_runner.vulndb.writer import INSECURE, INSECURE_FULL, dumps, write_atomic

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


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise VulnDbError(f"{path}: missing (build the database with `make vulndb`)") from exc
    except (OSError, ValueError) as exc:
        raise VulnDbError(f"{path}: unreadable ({exc})") from exc


def read_metadata(db_dir: Path, verify: bool = True) -> Metadata:
    """Read DIR/finsig-vulndb.json; with `verify`, also check both database files against the
    sha256 recorded there. Any problem is a VulnDbError (the security stage makes it ERROR)."""
    raw = _load_json(db_dir / METADATA)
    try:
        metadata = Metadata(**{key: raw[key] for key in Metadata.__dataclass_fields__})
    except (KeyError, TypeError) as exc:
        raise VulnDbError(f"{db_dir / METADATA}: missing key {exc}") from exc
    if metadata.schema_version != SCHEMA_VERSION:
        raise VulnDbError(
            f"{db_dir}: schema {metadata.schema_version}, safety needs {SCHEMA_VERSION}"
        )
    if verify:
        for name in (INSECURE, INSECURE_FULL):
            path = db_dir / name
            try:
                actual = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                raise VulnDbError(f"{path}: unreadable ({exc})") from exc
            if actual != metadata.files.get(name):
                raise VulnDbError(f"{path}: sha256 {actual} differs from {METADATA}")
    return metadata


def advisory_aliases(db_dir: Path) -> dict[tuple[str, str], list[str]]:
    """{(package, id safety reports): [CVE/GHSA/... aliases]} from DIR/insecure_full.json."""
    full = _load_json(db_dir / INSECURE_FULL)
    aliases: dict[tuple[str, str], list[str]] = {}
    for package, entries in (full.get("vulnerable_packages") or {}).items():
        for entry in entries:
            ids = entry.get("ids") or []
            pyup = next((i["id"] for i in ids if i.get("type") == "pyup"), "")
            aliases[(package, pyup)] = [i["id"] for i in ids if i.get("type") != "pyup"]
    return aliases
