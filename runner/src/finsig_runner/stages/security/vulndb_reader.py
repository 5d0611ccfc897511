"""The offline vulnerability database as the `security` stage reads it.

Layout (what safety 3.7.0 reads with `--db DIR`, plus our metadata file):
  DIR/insecure.json       {"meta": {"schema_version": "2.0.0", ...},
                           "vulnerable_packages": {name: [spec, ...]}}
  DIR/insecure_full.json  {"meta": {...}, "vulnerable_packages": {name: [{"specs": [...], "ids": [
                              {"type": "pyup", "id": ...}, {"type": "cve", "id": ...}, ...], ...}]}}
  DIR/finsig-vulndb.json  {"source": ..., "source_date": "YYYY-MM-DD", "built": ...,
                           "advisories": n, "packages": n}
safety reports a finding's id from its `pyup` entry; the other ids are its aliases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

SCHEMA_VERSION = "2.0.0"
METADATA = "finsig-vulndb.json"


class VulnDBError(ValueError):
    """The database is missing, unreadable or in a schema the pinned safety cannot read."""


@dataclass(frozen=True)
class VulnDB:
    path: Path
    source: str
    source_date: date
    built: str
    advisories: int
    packages: int
    aliases: dict[str, list[str]] = field(default_factory=dict)  # pyup id -> other ids

    def age_days(self, today: date) -> int:
        return (today - self.source_date).days

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "source": self.source,
            "source_date": self.source_date.isoformat(),
            "built": self.built,
            "advisories": self.advisories,
            "packages": self.packages,
        }


def load(path: Path) -> VulnDB:
    if not path.is_dir():
        raise VulnDBError(f"vulnerability database {path} does not exist")
    _read(path / "insecure.json")
    full = _read(path / "insecure_full.json")
    meta = _read(path / METADATA)
    try:
        source = str(meta["source"])
        source_date = date.fromisoformat(str(meta["source_date"]))
    except (KeyError, ValueError) as exc:
        raise VulnDBError(
            f"{path / METADATA}: needs 'source' and 'source_date' (YYYY-MM-DD): {exc}"
        ) from exc
    return VulnDB(
        path=path,
        source=source,
        source_date=source_date,
        built=str(meta.get("built", "")),
        advisories=int(meta.get("advisories", 0)),
        packages=int(meta.get("packages", 0)),
        aliases=_aliases(full),
    )


def _read(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise VulnDBError(f"vulnerability database file {file} is missing") from exc
    except (OSError, ValueError) as exc:
        raise VulnDBError(f"{file} is unreadable: {exc}") from exc
    if not isinstance(data, dict):
        raise VulnDBError(f"{file} is not a JSON object")
    if file.name != METADATA:
        meta = data.get("meta")
        version = meta.get("schema_version") if isinstance(meta, dict) else None
        if version != SCHEMA_VERSION:
            raise VulnDBError(
                f"{file}: schema_version {version!r}, safety 3.7.0 reads {SCHEMA_VERSION}"
            )
        if not isinstance(data.get("vulnerable_packages"), dict):
            raise VulnDBError(f"{file}: no 'vulnerable_packages' object")
    return data


def _aliases(full: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entries in full["vulnerable_packages"].values():
        for entry in entries if isinstance(entries, list) else []:
            ids = [i for i in entry.get("ids", []) if isinstance(i, dict)]
            pyup = [str(i.get("id", "")) for i in ids if i.get("type") == "pyup"]
            if pyup and pyup[0]:
                others = [str(i.get("id")) for i in ids if i.get("type") != "pyup" and i.get("id")]
                out.setdefault(pyup[0], [])
                out[pyup[0]] += [a for a in others if a not in out[pyup[0]]]
    return out
