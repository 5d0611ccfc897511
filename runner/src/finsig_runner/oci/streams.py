"""Chunked I/O: hash while writing, copy in fixed-size chunks, and fixed tar headers.

Nothing here holds more than one chunk (1 MiB) of a layer in memory.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, BinaryIO

CHUNK = 1 << 20
BLOCK = 512


class HashingWriter:
    """A write-only file that hashes (sha256) and counts what passes through to `target`.

    tarfile writes through it, so a layer's digest and size are known the moment it is written.
    """

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._target.write(data)
        self._digest.update(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._target.flush()

    @property
    def digest(self) -> str:
        """"sha256:<hex>" of everything written so far."""
        return f"sha256:{self._digest.hexdigest()}"


def copy_stream(source: IO[bytes], target: IO[bytes] | HashingWriter,
                size: int | None = None) -> int:
    """Copy `size` bytes (or to the end) from `source` to `target` in chunks; bytes copied."""
    copied = 0
    while size is None or copied < size:
        want = CHUNK if size is None else min(CHUNK, size - copied)
        block = source.read(want)
        if not block:
            if size is not None:
                raise EOFError(f"stream ended after {copied} of {size} bytes")
            break
        target.write(block)
        copied += len(block)
    return copied


def sha256_stream(source: IO[bytes]) -> tuple[str, int]:
    """("sha256:<hex>", size) of what `source` yields to its end."""
    digest = hashlib.sha256()
    size = 0
    while block := source.read(CHUNK):
        digest.update(block)
        size += len(block)
    return f"sha256:{digest.hexdigest()}", size


def sha256_bytes(data: bytes) -> str:
    """"sha256:<hex>" of `data`."""
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def padding(size: int) -> bytes:
    """Zero bytes that round `size` up to a whole tar block."""
    return b"\0" * (-size % BLOCK)


def file_header(name: str, size: int, mtime: int) -> bytes:
    """One 512-byte ustar header for a regular file: mode 0644, root, no owner names."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    header = info.tobuf(format=tarfile.USTAR_FORMAT, encoding="utf-8", errors="strict")
    if len(header) != BLOCK:
        raise ValueError(f"tar header for {name!r} is {len(header)} bytes, expected {BLOCK}")
    return header


@contextmanager
def atomic_output(path: Path, mode: str = "w+b") -> Iterator[BinaryIO]:
    """Write `path` through `<path>.partial` beside it, renamed only when the block succeeds; on
    any failure the partial file is removed, so nothing half-written is ever left at `path`."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open(mode) as handle:
            yield handle  # type: ignore[misc]
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
