"""The types the converter passes between reading, conversion and writing."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

SCHEMA_VERSION = "2.0.0"  # the only schema safety 3.7.0 accepts (safety.constants)

_SEPARATORS = re.compile(r"[-_.]+")


def normalise_name(name: str) -> str:
    """PEP 503 normalisation, the form safety looks package names up by (canonicalize_name)."""
    return _SEPARATORS.sub("-", name.strip()).lower()


@dataclass(frozen=True)
class Alias:
    """Another id of the same advisory, typed like safety's `ids` entries (cve, ghsa, ...)."""

    type: str
    id: str

    @classmethod
    def of(cls, alias: str) -> Alias:
        prefix = alias.split("-", 1)[0].lower()
        return cls(prefix if prefix.isalnum() and prefix != alias.lower() else "alias", alias)


@dataclass(frozen=True)
class Advisory:
    """One advisory for one package, already converted: `specs` are PEP 440 specifier strings."""

    id: str  # the id safety reports (its `pyup` ids entry): the PYSEC id for OSV data
    package: str  # normalised
    specs: tuple[str, ...]
    aliases: tuple[Alias, ...] = ()
    advisory: str = ""
    published: str | None = None
    modified: str | None = None
    fixed_versions: tuple[str, ...] = ()
    affected_versions: tuple[str, ...] = ()  # explicit, valid versions (feeds meta.packages)
    more_info_path: str = ""


@dataclass
class Skipped:
    """What the conversion left out, by reason; counts go into finsig-vulndb.json."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, reason: str, n: int = 1) -> None:
        if n:
            self.counts[reason] += n

    def as_dict(self) -> dict[str, int]:
        return {key: self.counts[key] for key in sorted(self.counts)}


@dataclass(frozen=True)
class SourceInfo:
    """Where the data came from: shown in the metadata and in the security report."""

    kind: str  # "osv" or "safety-db"
    label: str  # e.g. "pypa/advisory-database@3ccb612573e2 (OSV)"
    path: str  # the file or directory name (no directories: the metadata is machine-independent)
    sha256: str  # of the archive file, or a tree hash of a directory (see sources.tree_sha256)
    date: str  # YYYY-MM-DD: the data's own date (newest `modified`, or the snapshot timestamp)
    base_domain: str = ""  # safety prints base_domain + more_info_path as more_info_url
    licence: str = ""
    attribution: str = ""


@dataclass(frozen=True)
class Converted:
    """A whole source, converted and ready to write."""

    source: SourceInfo
    advisories: tuple[Advisory, ...]
    skipped: dict[str, int]
