"""PyPI's `safety-db` (schema 1: package -> [{id, cve, specs, advisory, v}], "$meta") -> Advisories.

The fallback source: older (it stops in July 2021) and under a non-commercial licence, used only
when no OSV data is given. Its ids look like "pyup.io-25853"; safety reported them as "25853",
and so does this conversion. The `cve` field becomes an alias.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from finsig_runner.vulndb.errors import VulnDbError
from finsig_runner.vulndb.model import Advisory, Alias, Skipped, normalise_name
from finsig_runner.vulndb.ranges import unique, valid_specifier

FULL_FILE = "insecure_full.json"
META_KEY = "$meta"
LICENCE = "CC-BY-NC-SA-4.0 (safety-db's own terms: non-commercial use)"
ATTRIBUTION = "safety-db, (c) pyup.io, CC BY-NC-SA 4.0"
_ID_PREFIX = "pyup.io-"


def load(data: bytes, name: str = FULL_FILE) -> Mapping[str, Any]:
    try:
        loaded = json.loads(data)
    except ValueError as exc:
        raise VulnDbError(f"{name}: not JSON ({exc})") from exc
    if not isinstance(loaded, Mapping) or META_KEY not in loaded:
        raise VulnDbError(f"{name}: not a safety-db schema 1 file (no {META_KEY!r} key)")
    return loaded


def snapshot_date(full: Mapping[str, Any]) -> str | None:
    meta = full.get(META_KEY) or {}
    stamp = meta.get("timestamp") if isinstance(meta, Mapping) else None
    if not isinstance(stamp, int | float):
        return None
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%d")


def _alias(cve: object) -> tuple[Alias, ...]:
    names = [part.strip() for part in str(cve or "").split(",") if part.strip()]
    return tuple(Alias.of(name) for name in sorted(set(names)))


def convert(full: Mapping[str, Any], skipped: Skipped) -> list[Advisory]:
    merged: dict[tuple[str, str], Advisory] = {}
    for raw_name, entries in full.items():
        if raw_name == META_KEY or not isinstance(entries, list):
            continue
        package = normalise_name(raw_name)
        for entry in entries:
            if not isinstance(entry, Mapping) or not entry.get("id"):
                skipped.add("unreadable_entries")
                continue
            raw_id = str(entry["id"])
            advisory_id = raw_id[len(_ID_PREFIX):] if raw_id.startswith(_ID_PREFIX) else raw_id
            specs = []
            for spec in entry.get("specs") or []:
                if valid_specifier(str(spec)):
                    specs.append(str(spec))
                else:
                    skipped.add("invalid_ranges")
            if not specs:
                skipped.add("no_affected_versions")
                continue
            key = (package, advisory_id)
            before = merged.get(key)
            merged[key] = Advisory(
                id=advisory_id,
                package=package,
                specs=unique([*(before.specs if before else ()), *specs]),
                aliases=unique_aliases(before.aliases if before else (), _alias(entry.get("cve"))),
                advisory=str(entry.get("advisory") or "").strip(),
            )
    return [merged[key] for key in sorted(merged)]


def unique_aliases(*groups: tuple[Alias, ...]) -> tuple[Alias, ...]:
    return tuple(dict.fromkeys(alias for group in groups for alias in group))
