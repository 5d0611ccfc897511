"""The outer tar: writing its two members around a streamed `docker save`, and reading them back.

The outer tar is written by hand (GNU headers: one 512-byte header per member whatever its size),
so `docker save` can stream straight into the file and its header is filled in afterwards —
images.tar is never held in memory nor copied.
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import dataclass
from typing import BinaryIO

from finsig_runner.bundle.errors import BundleVerificationError
from finsig_runner.bundle.manifest import IMAGES_MEMBER, MANIFEST_MEMBER, Member
from finsig_runner.bundle.streams import BLOCK, RegionReader, padding

END_OF_ARCHIVE = b"\0" * (2 * BLOCK)
MAX_MANIFEST = 64 << 20


def member_header(name: str, size: int, mtime: int) -> bytes:
    """One 512-byte GNU tar header for a regular file."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o644
    info.type = tarfile.REGTYPE
    info.uname = info.gname = ""
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    if len(header) != BLOCK:
        raise ValueError(f"tar header for {name!r} is {len(header)} bytes, expected {BLOCK}")
    return header


@dataclass(frozen=True)
class Layout:
    images_offset: int  # where images.tar's data starts
    images_size: int
    manifest_header: int  # where manifest.json's header starts (the tail begins here)
    manifest_offset: int
    manifest_size: int
    end: int  # the expected file size


def write_tail(handle: BinaryIO, offset: int, manifest: bytes, mtime: int) -> int:
    """Write manifest.json's header, data, padding and the end-of-archive at `offset`; truncate
    there. Returns the file size."""
    handle.seek(offset)
    handle.write(member_header(MANIFEST_MEMBER, len(manifest), mtime))
    handle.write(manifest)
    handle.write(padding(len(manifest)))
    handle.write(END_OF_ARCHIVE)
    size = handle.tell()
    handle.truncate(size)
    return size


def read_layout(handle: BinaryIO, file_size: int) -> Layout:
    """Find the two members; refuse any other shape (names, order, types, trailing bytes)."""
    handle.seek(0)
    try:
        with tarfile.open(fileobj=handle, mode="r:") as outer:
            infos = outer.getmembers()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleVerificationError("layout", f"not a readable tar ({exc})") from exc
    names = [(i.name, i.isreg()) for i in infos]
    if names != [(IMAGES_MEMBER, True), (MANIFEST_MEMBER, True)]:
        raise BundleVerificationError(
            "layout", f"members must be exactly {IMAGES_MEMBER}, {MANIFEST_MEMBER}; found {names}"
        )
    images, manifest = infos
    end = manifest.offset_data + manifest.size + len(padding(manifest.size)) + len(END_OF_ARCHIVE)
    if end != file_size:
        raise BundleVerificationError("layout", f"file is {file_size} bytes, layout says {end}")
    if manifest.size > MAX_MANIFEST:
        raise BundleVerificationError("layout", f"{MANIFEST_MEMBER} larger than {MAX_MANIFEST}")
    return Layout(
        images.offset_data, images.size, manifest.offset, manifest.offset_data, manifest.size, end
    )


def read_manifest_bytes(handle: BinaryIO, layout: Layout) -> bytes:
    handle.seek(layout.manifest_offset)
    data = handle.read(layout.manifest_size)
    if len(data) != layout.manifest_size:
        raise BundleVerificationError("layout", f"{MANIFEST_MEMBER} is truncated")
    return data


def _member_type(info: tarfile.TarInfo) -> str:
    if info.isreg():
        return "file"
    if info.isdir():
        return "dir"
    if info.issym():
        return "symlink"
    if info.islnk():
        return "hardlink"
    raise ValueError(f"{info.name}: unsupported tar member type {info.type!r}")


def images_tar(handle: BinaryIO, offset: int, size: int) -> tarfile.TarFile:
    """images.tar, read in place inside the bundle (seekable, buffered, bounded to its region)."""
    region = io.BufferedReader(RegionReader(handle, offset, size), buffer_size=1 << 20)
    return tarfile.open(fileobj=region, mode="r:")


def list_members(handle: BinaryIO, offset: int, size: int) -> list[Member]:
    """Name, type, size and sha256 (streamed) of every member of images.tar, in archive order."""
    import hashlib

    members: list[Member] = []
    with images_tar(handle, offset, size) as inner:
        for info in inner:
            kind = _member_type(info)
            if kind == "file":
                digest = hashlib.sha256()
                stream = inner.extractfile(info)
                if stream is None:
                    raise ValueError(f"{info.name}: cannot be read")
                while block := stream.read(1 << 20):
                    digest.update(block)
                members.append(Member(info.name, kind, info.size, digest.hexdigest()))
            elif kind in ("symlink", "hardlink"):
                members.append(Member(info.name, kind, 0, linkname=info.linkname))
            else:
                members.append(Member(info.name, kind, 0))
    return members


def saved_image_configs(handle: BinaryIO, offset: int, size: int) -> dict[str, str]:
    """RepoTag -> config digest ("sha256:<hex>") from docker save's own manifest.json."""
    with images_tar(handle, offset, size) as inner:
        try:
            stream = inner.extractfile("manifest.json")
        except KeyError as exc:
            raise ValueError("images.tar has no manifest.json") from exc
        if stream is None:
            raise ValueError("images.tar manifest.json cannot be read")
        entries = json.loads(stream.read(MAX_MANIFEST))
    tags: dict[str, str] = {}
    for entry in entries:
        config = str(entry["Config"])
        digest = "sha256:" + config.rsplit("/", 1)[-1].removesuffix(".json")
        for tag in entry.get("RepoTags") or ():
            tags[str(tag)] = digest
    return tags
