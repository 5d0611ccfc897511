"""The one reader of a database DIR: finsig-vulndb.json and the two files it lists.

The security stage opens the database with `open_database` (the metadata, both files checked
against safety's schema and the sha256 the metadata records, every advisory's aliases); validate
reads the source and date with `read_metadata(DIR, verify=False)`; `python -m finsig_runner.vulndb
show DIR` prints `read_metadata(DIR)`. Any problem is a VulnDbError that says what to do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from finsig_runner.vulndb.errors import VulnDbError
from finsig_runner.vulndb.metadata import METADATA, Metadata
from finsig_runner.vulndb.model import SCHEMA_VERSION, normalise_name
from finsig_runner.vulndb.writer import INSECURE, INSECURE_FULL

REBUILD = "rebuild it with `make vulndb`"


@dataclass(frozen=True)
class Database:
    """A database DIR that safety 3.7.0 can read, as its metadata describes it."""

    path: Path
    metadata: Metadata
    source_date: date
    aliases: Mapping[tuple[str, str], tuple[str, ...]]  # (package, id safety reports) -> others

    def age_days(self, today: date) -> int:
        return (today - self.source_date).days

    def aliases_of(self, package: str, advisory_id: str) -> tuple[str, ...]:
        return self.aliases.get((normalise_name(package), advisory_id), ())


def open_database(db_dir: Path) -> Database:
    """The database in `db_dir`, every file checked; raises VulnDbError naming the first problem."""
    if not db_dir.is_dir():
        raise VulnDbError(f"vulnerability database {db_dir} does not exist ({REBUILD})")
    metadata = read_metadata(db_dir, verify=False)
    _database_file(db_dir / INSECURE, metadata)
    full = _database_file(db_dir / INSECURE_FULL, metadata)
    return Database(db_dir, metadata, date.fromisoformat(metadata.source_date), _aliases(full))


def read_metadata(db_dir: Path, verify: bool = True) -> Metadata:
    """DIR/finsig-vulndb.json; with `verify`, both database files must match the sha256 recorded
    there."""
    path = db_dir / METADATA
    raw = _json(path, _read(path))
    try:
        metadata = Metadata(**{key: raw[key] for key in Metadata.__dataclass_fields__})
    except (KeyError, TypeError) as exc:
        raise VulnDbError(f"{path}: missing key {exc} ({REBUILD})") from exc
    if metadata.schema_version != SCHEMA_VERSION:
        raise VulnDbError(f"{db_dir}: schema {metadata.schema_version}, safety 3.7.0 reads "
                          f"{SCHEMA_VERSION} ({REBUILD})")
    try:
        date.fromisoformat(str(metadata.source_date))
    except ValueError as exc:
        raise VulnDbError(f"{path}: source_date {metadata.source_date!r} is not YYYY-MM-DD "
                          f"({REBUILD})") from exc
    if verify:
        for name in (INSECURE, INSECURE_FULL):
            _check_sha256(db_dir / name, _read(db_dir / name), metadata)
    return metadata


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise VulnDbError(f"{path}: missing ({REBUILD})") from exc
    except OSError as exc:
        raise VulnDbError(f"{path}: unreadable ({exc})") from exc


def _json(path: Path, data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise VulnDbError(f"{path}: unreadable, not JSON ({exc})") from exc


def _check_sha256(path: Path, data: bytes, metadata: Metadata) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != metadata.files.get(path.name):
        raise VulnDbError(f"{path}: sha256 {actual} differs from the one {METADATA} records "
                          f"(changed after the build: {REBUILD})")


def _database_file(path: Path, metadata: Metadata) -> dict[str, Any]:
    """One of safety's two files: schema 2.0.0, `vulnerable_packages`, the recorded sha256."""
    data = _read(path)
    document = _json(path, data)
    if not isinstance(document, dict):
        raise VulnDbError(f"{path}: not a JSON object ({REBUILD})")
    meta = document.get("meta")
    version = meta.get("schema_version") if isinstance(meta, dict) else None
    if version != SCHEMA_VERSION:
        raise VulnDbError(f"{path}: schema_version {version!r}, safety 3.7.0 reads "
                          f"{SCHEMA_VERSION} ({REBUILD})")
    if not isinstance(document.get("vulnerable_packages"), dict):
        raise VulnDbError(f"{path}: no 'vulnerable_packages' object ({REBUILD})")
    _check_sha256(path, data, metadata)
    return document


def _aliases(full: Any) -> dict[tuple[str, str], tuple[str, ...]]:
    packages = full.get("vulnerable_packages") if isinstance(full, dict) else None
    found: dict[tuple[str, str], tuple[str, ...]] = {}
    for package, entries in (packages or {}).items():
        for entry in entries if isinstance(entries, list) else []:
            ids = _ids(entry)
            pyup = next((str(i.get("id", "")) for i in ids if i.get("type") == "pyup"), "")
            found[(package, pyup)] = tuple(str(i["id"]) for i in ids
                                           if i.get("type") != "pyup" and i.get("id"))
    return found


def _ids(entry: Any) -> list[dict[str, Any]]:
    ids = entry.get("ids") if isinstance(entry, dict) else None
    return [i for i in ids or [] if isinstance(i, dict)]
