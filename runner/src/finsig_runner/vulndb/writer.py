"""Writing the database in safety 3.7.0's schema 2.0.0 (what `safety check --db DIR` opens).

safety reads two files from DIR:
- insecure.json: {"meta": {"schema_version": "2.0.0", ...}, "vulnerable_packages":
  {name: [specifier, ...]}} — a pinned requirement is a candidate when a specifier contains it;
- insecure_full.json: the same "meta" (plus "packages", "severities") and "vulnerable_packages":
  {name: [advisory, ...]}; for each matching specifier safety takes the advisories whose "specs"
  list holds that exact string, reports each under the id of its `ids` entry of type "pyup"
  (de-duplicating on it), and the first `ids` entry of type "cve" as the finding's CVE.
Output is deterministic: sorted keys, sorted packages and advisories, ASCII only (safety opens
the files in the locale's encoding), so the same source gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from packaging.version import Version

from finsig_runner.vulndb.model import SCHEMA_VERSION, Advisory, Converted

INSECURE = "insecure.json"
INSECURE_FULL = "insecure_full.json"


def dumps(document: Any) -> bytes:
    return (json.dumps(document, sort_keys=True, ensure_ascii=True, indent=1) + "\n").encode()


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside, then rename: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def ids_of(advisory: Advisory) -> list[dict[str, str]]:
    ids = [{"type": "pyup", "id": advisory.id}]
    ids.extend({"type": alias.type, "id": alias.id} for alias in advisory.aliases)
    return ids


def full_entry(advisory: Advisory, base_domain: str = "") -> dict[str, Any]:
    """One advisory as safety reads it. safety copies `vulnerability_resources` into each finding
    as `resources`: with OSV data they link every alias, so the finding names them all (its `CVE`
    field holds only the first CVE)."""
    links = [f"{base_domain}{alias.id}" for alias in advisory.aliases] if base_domain else []
    return {
        "advisory": advisory.advisory,
        "affected_versions": [],  # kept empty: safety prints it in every finding
        "aliases": [alias.id for alias in advisory.aliases],  # not read by safety; for reports
        "closest_secure_versions": [],
        "fixed_versions": list(advisory.fixed_versions),
        "ids": ids_of(advisory),
        "modified": advisory.modified,
        "more_info_path": advisory.more_info_path,
        "published_date": advisory.published,
        "specs": list(advisory.specs),
        "transitive": False,
        "vulnerability_resources": links,
    }


def _version_key(version: str) -> tuple[Version, str]:
    return Version(version), version


def _by_package(advisories: Iterable[Advisory]) -> dict[str, list[Advisory]]:
    grouped: dict[str, list[Advisory]] = defaultdict(list)
    for advisory in advisories:
        grouped[advisory.package].append(advisory)
    return {name: sorted(grouped[name], key=lambda a: a.id) for name in sorted(grouped)}


def date_timestamp(date: str) -> int:
    return int(datetime.strptime(date, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp())


def documents(converted: Converted) -> tuple[dict[str, Any], dict[str, Any]]:
    """(insecure.json, insecure_full.json) as documents."""
    grouped = _by_package(converted.advisories)
    meta = {
        "base_domain": converted.source.base_domain,
        "schema_version": SCHEMA_VERSION,
        "source": converted.source.label,
        "timestamp": date_timestamp(converted.source.date),
    }
    short = {
        name: sorted({spec for a in items for spec in a.specs}) for name, items in grouped.items()
    }
    packages = {
        name: {
            "insecure_versions": sorted(
                {v for a in items for v in a.affected_versions}, key=_version_key
            ),
            "latest_secure_version": None,
            "latest_version": None,
            "more_info_path": "",
            "secure_versions": [],
        }
        for name, items in grouped.items()
    }
    base = converted.source.base_domain
    full = {name: [full_entry(a, base) for a in items] for name, items in grouped.items()}
    return (
        {"meta": meta, "vulnerable_packages": short},
        {"meta": {**meta, "packages": packages, "severities": {}}, "vulnerable_packages": full},
    )


def write_database(converted: Converted, out: Path) -> dict[str, str]:
    """Write both files into `out`; returns {file name: sha256}."""
    out.mkdir(parents=True, exist_ok=True)
    hashes: dict[str, str] = {}
    for name, document in zip((INSECURE, INSECURE_FULL), documents(converted)):
        data = dumps(document)
        write_atomic(out / name, data)
        hashes[name] = hashlib.sha256(data).hexdigest()
    return hashes
