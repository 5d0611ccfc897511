"""Helpers shared by the vulndb tests: hand-made OSV entries and safety-db fixtures."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
SNAPSHOT = REPO / "third_party" / "advisory-db" / "pypa-advisory-database-2024-10-10.tar.gz"
SNAPSHOT_SHA256 = "81a44d6752d0448d2122a12636237ca3d921174f5c23314e6e229a4d1ee7a506"


def osv_entry(
    entry_id: str = "PYSEC-0000-1",
    package: str = "demo",
    ranges: list[dict[str, Any]] | None = None,
    versions: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"name": package, "ecosystem": "PyPI"}}
    if ranges is not None:
        affected["ranges"] = ranges
    if versions is not None:
        affected["versions"] = versions
    entry: dict[str, Any] = {
        "id": entry_id,
        "details": f"{entry_id} details",
        "affected": [affected],
        "modified": "2024-01-02T03:04:05Z",
        "published": "2023-01-02T03:04:05Z",
    }
    entry.update(extra)
    return entry


def eco(*events: tuple[str, str]) -> dict[str, Any]:
    return {"type": "ECOSYSTEM", "events": [{kind: version} for kind, version in events]}


def write_osv_tree(root: Path, entries: list[dict[str, Any]]) -> Path:
    """A directory laid out like the PyPA database (JSON instead of YAML works the same)."""
    for entry in entries:
        package = entry["affected"][0]["package"]["name"]
        path = root / "vulns" / package / f"{entry['id']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(entry))
    return root


def safety_db_full(timestamp: int = 1625119202) -> dict[str, Any]:
    """The shape of safety-db 2021.7.17's insecure_full.json (schema 1), two packages."""
    return {
        "$meta": {"advisory": "PyUp.io metadata", "timestamp": timestamp},
        "Demo_Pkg": [
            {"advisory": "demo before 1.2 is bad. See CVE-2020-0001.", "cve": "CVE-2020-0001",
             "id": "pyup.io-11111", "specs": ["<1.2"], "v": "<1.2"},
            {"advisory": "demo 2.x before 2.1 is bad.", "cve": None,
             "id": "pyup.io-22222", "specs": [">=2.0,<2.1", "<0.5"], "v": ">=2.0,<2.1,<0.5"},
        ],
        "other": [
            {"advisory": "broken spec", "cve": "", "id": "pyup.io-33333", "specs": ["<r5238"],
             "v": "<r5238"},
        ],
    }


def write_safety_db_wheel(path: Path, full: dict[str, Any]) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("safety_db/insecure_full.json", json.dumps(full))
        wheel.writestr("safety_db/insecure.json", "{}")
        wheel.writestr("safety_db-2021.7.17.dist-info/METADATA", "Name: safety-db\n")
    return path
