"""Reading a source, whatever its shape, and converting it.

Accepted shapes:
- an OSV archive (.tar.gz / .tgz / .tar / .zip) such as a snapshot of the PyPA advisory
  database, or an OSV directory tree (a clone of it): every *.yaml / *.yml / *.json file with an
  `id` and an `affected` list is an advisory;
- a safety-db wheel, sdist or directory: the file `insecure_full.json` with a "$meta" key.
"""

from __future__ import annotations

import hashlib
import tarfile
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from finsig_runner.core.hashing import sha256_file
from finsig_runner.vulndb import osv, safetydb
from finsig_runner.vulndb.errors import VulnDbError
from finsig_runner.vulndb.model import Converted, Skipped, SourceInfo

OSV_SUFFIXES = (".yaml", ".yml", ".json")
OSV_LICENCE = "CC-BY-4.0"
OSV_ATTRIBUTION = "Python Packaging Advisory Database, (c) the PyPA advisory database contributors"
_SKIP_DIRS = {".git", ".github", "__pycache__"}


def _tree_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not _SKIP_DIRS.intersection(rel.parts[:-1]):
            files.append(path)
    return files


def tree_sha256(root: Path) -> str:
    """A directory's hash: sha256 over "<sha256>  <relative path>\\n" lines in path order (the
    output of `find . -type f | sort | xargs sha256sum`, without ./ and .git)."""
    digest = hashlib.sha256()
    for path in _tree_files(root):
        digest.update(f"{sha256_file(path)}  {path.relative_to(root).as_posix()}\n".encode())
    return digest.hexdigest()


def members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every regular file in an archive or directory, in name order."""
    if path.is_dir():
        for file in _tree_files(path):
            yield file.relative_to(path).as_posix(), file.read_bytes()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for info in sorted(archive.infolist(), key=lambda item: item.filename):
                if not info.is_dir():
                    yield info.filename, archive.read(info)
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            for tar_member in sorted(archive.getmembers(), key=lambda item: item.name):
                handle = archive.extractfile(tar_member) if tar_member.isfile() else None
                if handle is not None:
                    yield tar_member.name, handle.read()
    else:
        raise VulnDbError(f"{path}: neither a directory nor a tar or zip archive")


def _is_osv_name(name: str) -> bool:
    pure = PurePosixPath(name)
    return pure.suffix in OSV_SUFFIXES and not _SKIP_DIRS.intersection(pure.parts[:-1])


def _safety_db_version(name: str) -> str | None:
    """"safety_db-2021.7.17.dist-info/..." or "safety-db-2021.7.17/..." -> "2021.7.17"."""
    head = PurePosixPath(name).parts[0]
    for prefix in ("safety_db-", "safety-db-"):
        if head.startswith(prefix):
            return head[len(prefix):].removesuffix(".dist-info")
    return None


def _date_of(timestamp: str | None) -> str | None:
    return timestamp[:10] if timestamp and len(timestamp) >= 10 else None


def _mtime_date(path: Path) -> str:
    stamp = path.stat().st_mtime
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%d")


def git_commit(root: Path) -> str | None:
    """The commit a clone's HEAD points at (12 hex digits), read from .git without running git."""
    git = root / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12] or None
        ref = head[len("ref: "):]
        if (git / ref).is_file():
            return (git / ref).read_text().strip()[:12] or None
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(f" {ref}"):
                return line.split(" ", 1)[0][:12]
    except OSError:
        return None
    return None


def _osv_label(path: Path) -> str:
    commit = git_commit(path) if path.is_dir() else None
    return f"{path.name}@{commit} (OSV)" if commit else f"{path.name} (OSV)"


def convert_source(path: Path, label: str | None = None, date: str | None = None) -> Converted:
    """Read one source and convert it. `label` and `date` override what the data says."""
    if not path.exists():
        raise VulnDbError(f"{path}: no such file or directory")
    skipped = Skipped()
    sha256 = tree_sha256(path) if path.is_dir() else sha256_file(path)
    osv_files: list[tuple[str, bytes]] = []
    safety_full: tuple[str, bytes] | None = None
    version: str | None = None
    for name, data in members(path):
        version = version or _safety_db_version(name)
        if PurePosixPath(name).name == safetydb.FULL_FILE:
            safety_full = (name, data)
        elif _is_osv_name(name):
            osv_files.append((name, data))
    if safety_full is not None:
        full = safetydb.load(safety_full[1], safety_full[0])
        advisories = safetydb.convert(full, skipped)
        info = SourceInfo(
            kind="safety-db",
            label=label or f"safety-db {version or path.name} (schema 1)",
            path=path.name,
            sha256=sha256,
            date=date or safetydb.snapshot_date(full) or _mtime_date(path),
            licence=safetydb.LICENCE,
            attribution=safetydb.ATTRIBUTION,
        )
    else:
        advisories, newest = osv.convert_entries(osv_files, skipped)
        if not advisories:
            raise VulnDbError(f"{path}: no OSV advisories and no safety-db file in it")
        info = SourceInfo(
            kind="osv",
            label=label or _osv_label(path),
            path=path.name,
            sha256=sha256,
            date=date or _date_of(newest) or _mtime_date(path),
            base_domain=osv.MORE_INFO_BASE,
            licence=OSV_LICENCE,
            attribution=OSV_ATTRIBUTION,
        )
    return Converted(info, tuple(advisories), skipped.as_dict())
