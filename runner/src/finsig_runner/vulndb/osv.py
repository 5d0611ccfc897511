"""OSV advisories (the PyPA advisory database's format) -> Advisories.

One OSV entry names one or more affected packages; each PyPI one becomes an Advisory with the
entry's id (PYSEC-...) as the id safety reports, and its aliases (CVE, GHSA, ...) kept beside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from finsig_runner.vulndb.errors import VulnDbError
from finsig_runner.vulndb.model import Advisory, Alias, Skipped, normalise_name
from finsig_runner.vulndb.ranges import range_specifiers, unique, version_specifiers

ECOSYSTEM = "PyPI"
MORE_INFO_BASE = "https://osv.dev/vulnerability/"

try:  # libyaml when present: ten times faster over a few thousand files
    _Loader: Any = yaml.CBaseLoader
except AttributeError:  # pragma: no cover - pure-Python PyYAML
    _Loader = yaml.BaseLoader


def parse_entry(name: str, data: bytes) -> Mapping[str, Any]:
    """One OSV file (YAML or JSON) -> its mapping. YAML is read with every scalar as a string, so
    that `fixed: 1.10` stays "1.10" and never becomes the float 1.1."""
    try:
        if name.endswith(".json"):
            loaded = json.loads(data)
        else:
            loaded = yaml.load(data, Loader=_Loader)  # noqa: S506 - BaseLoader builds no objects
    except (ValueError, yaml.YAMLError) as exc:
        raise VulnDbError(f"{name}: not readable as OSV ({exc})") from exc
    if not isinstance(loaded, Mapping):
        raise VulnDbError(f"{name}: not an OSV entry (no mapping at the top)")
    return loaded


def is_osv_entry(entry: Mapping[str, Any]) -> bool:
    return isinstance(entry.get("id"), str) and isinstance(entry.get("affected"), list)


def _aliases(entry: Mapping[str, Any], own_id: str) -> tuple[Alias, ...]:
    raw = entry.get("aliases") or []
    names = sorted({str(alias).strip() for alias in raw if str(alias).strip()} - {own_id})
    order = {"cve": 0, "ghsa": 1}
    aliases = [Alias.of(name) for name in names]
    return tuple(sorted(aliases, key=lambda alias: (order.get(alias.type, 2), alias.id)))


def _text(entry: Mapping[str, Any]) -> str:
    summary = str(entry.get("summary") or "").strip()
    details = str(entry.get("details") or "").strip()
    if summary and details and not details.startswith(summary):
        return f"{summary}\n\n{details}"
    return details or summary


def _optional(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _fixed(ranges: Iterable[Mapping[str, Any]]) -> list[str]:
    fixed: list[str] = []
    for item in ranges:
        if item.get("type") == "ECOSYSTEM":
            for event in item.get("events") or []:
                if isinstance(event, Mapping) and "fixed" in event:
                    fixed.append(str(event["fixed"]))
    return fixed


def convert_affected(
    affected: Mapping[str, Any], skipped: Skipped
) -> tuple[str, list[str], list[str], list[str]] | None:
    """One `affected` item -> (package, specifiers, valid explicit versions, fixed versions)."""
    package = affected.get("package") or {}
    if package.get("ecosystem") != ECOSYSTEM or not package.get("name"):
        skipped.add("other_ecosystems")
        return None
    specs: list[str] = []
    ranges = [item for item in affected.get("ranges") or [] if isinstance(item, Mapping)]
    for item in ranges:
        kind = item.get("type")
        if kind == "GIT":
            skipped.add("git_ranges")
            continue
        if kind != "ECOSYSTEM":
            skipped.add(f"{str(kind).lower()}_ranges")
            continue
        specs.extend(range_specifiers(item.get("events") or [], skipped))
    specs = list(unique(specs))
    extra, versions = version_specifiers(affected.get("versions") or [], specs, skipped)
    specs.extend(extra)
    return normalise_name(str(package["name"])), list(unique(specs)), versions, _fixed(ranges)


def convert_entry(entry: Mapping[str, Any], skipped: Skipped) -> list[Advisory]:
    """One OSV entry -> one Advisory per affected PyPI package (none when withdrawn)."""
    entry_id = str(entry["id"]).strip()
    if entry.get("withdrawn"):
        skipped.add("withdrawn")
        return []
    merged: dict[str, tuple[list[str], list[str], list[str]]] = {}
    for affected in entry.get("affected") or []:
        if not isinstance(affected, Mapping):
            continue
        converted = convert_affected(affected, skipped)
        if converted is None:
            continue
        package, specs, versions, fixed = converted
        have = merged.setdefault(package, ([], [], []))
        have[0].extend(specs)
        have[1].extend(versions)
        have[2].extend(fixed)
    advisories: list[Advisory] = []
    for package in sorted(merged):
        specs, versions, fixed = merged[package]
        if not specs:
            skipped.add("no_affected_versions")
            continue
        advisories.append(
            Advisory(
                id=entry_id,
                package=package,
                specs=unique(specs),
                aliases=_aliases(entry, entry_id),
                advisory=_text(entry),
                published=_optional(entry.get("published")),
                modified=_optional(entry.get("modified")),
                fixed_versions=unique(fixed),
                affected_versions=unique(versions),
                more_info_path=entry_id,
            )
        )
    return advisories


def convert_entries(
    members: Iterable[tuple[str, bytes]], skipped: Skipped
) -> tuple[list[Advisory], str | None]:
    """Every OSV file of a source -> (advisories, newest `modified` timestamp seen)."""
    advisories: list[Advisory] = []
    newest: str | None = None
    for name, data in members:
        entry = parse_entry(name, data)
        if not is_osv_entry(entry):
            skipped.add("not_osv_files")
            continue
        modified = _optional(entry.get("modified"))
        if modified and (newest is None or modified > newest):
            newest = modified
        advisories.extend(convert_entry(entry, skipped))
    return advisories, newest
