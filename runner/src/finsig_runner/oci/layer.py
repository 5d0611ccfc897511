"""Rewrite one layer tar deterministically.

Output format: POSIX.1-2001 (PAX) as written by Python's tarfile — a plain ustar header for every
entry that fits one, a PAX extended header only where ustar cannot hold a field (a name or link
over 100 bytes or not ASCII, an id or size too large) or for extended attributes. No atime, ctime
or fractional times, no owner names. Per entry:

- order: by path components, bytewise (entries.sort_key); parents precede their contents;
- mtime: clamped to SOURCE_DATE_EPOCH (`MtimeMode.CLAMP`: older times, e.g. a Debian package's
  files, are kept) or set to it (`MtimeMode.SET`);
- numeric uid/gid and mode kept; user and group names dropped (the engine looks them up on its
  own host, so they differ between machines, and nothing that unpacks a layer uses them);
- symlinks, devices, FIFOs and whiteouts (`.wh.<name>`, `.wh..wh..opq`: plain files to tar)
  kept as they are; extended attributes kept;
- hardlinks kept: after sorting, the first name of each hardlinked group carries the data and
  the others link to it (tar requires a link's target to come first).

The source must be seekable (entries are read in the new order); only member headers are held in
memory, data is copied in chunks.
"""

from __future__ import annotations

import enum
import tarfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, cast

from finsig_runner.oci.entries import (ENCODING, ERRORS, bare_name, display_path, sort_key,
                                       xattrs)
from finsig_runner.oci.pyc import HEADER_SIZE, PycKind, TimestampPyc, is_pyc, read_header
from finsig_runner.oci.streams import HashingWriter


class MtimeMode(enum.Enum):
    CLAMP = "clamp"
    SET = "set"


@dataclass(frozen=True)
class Step:
    """One output entry: its header, and the source entry whose data it carries (if any)."""

    info: tarfile.TarInfo
    data: tarfile.TarInfo | None


def clean(info: tarfile.TarInfo, epoch: int, mode: MtimeMode, name: str | None = None
          ) -> tarfile.TarInfo:
    """A fresh header with what the entry means and nothing the build machine stamped."""
    out = tarfile.TarInfo(info.name if name is None else name)
    out.type = info.type
    out.mode = info.mode
    out.uid, out.gid = info.uid, info.gid
    out.uname = out.gname = ""
    out.size = info.size if info.isreg() else 0
    out.linkname = info.linkname
    out.devmajor, out.devminor = info.devmajor, info.devminor
    out.mtime = epoch if mode is MtimeMode.SET else min(int(info.mtime), epoch)
    out.pax_headers = xattrs(info)
    return out


def _link_root(info: tarfile.TarInfo, by_name: dict[str, tarfile.TarInfo]
               ) -> tarfile.TarInfo | None:
    """The entry a hardlink finally points at (following links to links), None if absent."""
    seen: set[str] = set()
    current = info
    while current.islnk():
        target = bare_name(current.linkname)
        if target in seen or target not in by_name:
            return None
        seen.add(target)
        current = by_name[target]
    return current


def _link_groups(members: Sequence[tarfile.TarInfo]) -> dict[str, str]:
    """name -> the name that carries the data, for every entry of a hardlinked group."""
    by_name = {bare_name(m.name): m for m in members}
    groups: dict[str, list[str]] = {}
    for member in members:
        if member.islnk():
            root = _link_root(member, by_name)
            if root is not None:
                groups.setdefault(bare_name(root.name), [bare_name(root.name)])
                groups[bare_name(root.name)].append(bare_name(member.name))
    canonical: dict[str, str] = {}
    for names in groups.values():
        first = min(names, key=sort_key)
        canonical.update((name, first) for name in names)
    return canonical


def plan(members: Sequence[tarfile.TarInfo], epoch: int, mode: MtimeMode) -> list[Step]:
    """The normalised entries in their new order."""
    by_name = {bare_name(m.name): m for m in members}
    carrier = _link_groups(members)
    steps: list[Step] = []
    for member in sorted(members, key=lambda m: sort_key(m.name)):
        name = bare_name(member.name)
        first = carrier.get(name)
        if first is None:
            info = clean(member, epoch, mode)
            steps.append(Step(info, member if member.isreg() else None))
        elif first == name:
            root = _link_root(member, by_name) or member
            info = clean(root, epoch, mode, name=member.name)
            steps.append(Step(info, root if root.isreg() else None))
        else:
            info = clean(member, epoch, mode)
            info.type, info.size, info.linkname = tarfile.LNKTYPE, 0, first
            steps.append(Step(info, None))
    return steps


def _pyc_header(source: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    stream = source.extractfile(info)
    return stream.read(HEADER_SIZE) if stream else b""


def _write(source: tarfile.TarFile, steps: Sequence[Step], target: HashingWriter,
           index: int) -> Iterator[TimestampPyc]:
    sink = cast(IO[bytes], target)  # tarfile needs only write() and tell()
    with tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT, encoding=ENCODING,
                      errors=ERRORS) as out:
        for step in steps:
            if step.data is None:
                out.addfile(step.info)
                continue
            if is_pyc(step.data):
                header = read_header(_pyc_header(source, step.data))
                if header is not None and header.kind is PycKind.TIMESTAMP:
                    yield TimestampPyc(index, display_path(step.info.name),
                                       header.source_mtime or 0)
            out.addfile(step.info, source.extractfile(step.data))


def normalise_layer(source: IO[bytes], target: HashingWriter, epoch: int,
                    mode: MtimeMode = MtimeMode.CLAMP, index: int = 0) -> tuple[TimestampPyc, ...]:
    """Write the normalised form of the layer tar `source` to `target`; returns the timestamp-
    based pycs met on the way (their bytes cannot be normalised: see finsig_runner.oci.pyc)."""
    with tarfile.open(fileobj=source, mode="r:", encoding=ENCODING, errors=ERRORS) as tar:
        steps = plan(tar.getmembers(), epoch, mode)
        return tuple(_write(tar, steps, target, index))
