"""The build: convert every given source, keep the freshest, write the database and metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from finsig_runner.vulndb.errors import VulnDbUsageError
from finsig_runner.vulndb.metadata import Metadata, make_metadata, write_metadata
from finsig_runner.vulndb.model import Converted
from finsig_runner.vulndb.sources import convert_source
from finsig_runner.vulndb.writer import write_database

VERSION = "1.0.0"  # raise when the output format or a conversion rule changes


def converter_version() -> str:
    """VERSION plus a digest of this package's sources: any code change forces a rebuild."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{VERSION}+{digest.hexdigest()[:12]}"


@dataclass(frozen=True)
class BuildRequest:
    sources: tuple[Path, ...]
    out: Path
    source_date: str | None = None  # only with a single source: the snapshot's date
    label: str | None = None  # only with a single source: e.g. "owner/repo@commit (OSV)"


def choose(candidates: Sequence[Converted]) -> Converted:
    """The freshest source wins; on a tie, OSV (richer: aliases, dates), then the first given."""
    ranked = sorted(
        enumerate(candidates),
        key=lambda item: (item[1].source.date, item[1].source.kind == "osv", -item[0]),
    )
    return ranked[-1][1]


def build(request: BuildRequest) -> Metadata:
    if not request.sources:
        raise VulnDbUsageError("no --source given")
    if len(request.sources) > 1 and (request.source_date or request.label):
        raise VulnDbUsageError("--source-date and --label apply to a single --source only")
    candidates = [
        convert_source(path, label=request.label, date=request.source_date)
        for path in request.sources
    ]
    chosen = choose(candidates)
    considered = [
        {"source": c.source.label, "source_date": c.source.date, "source_sha256": c.source.sha256}
        for c in candidates
    ]
    files = write_database(chosen, request.out)
    metadata = make_metadata(chosen, files, converter_version(), considered)
    write_metadata(metadata, request.out)
    return metadata
