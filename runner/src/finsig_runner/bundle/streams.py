"""Streaming helpers: hash files and file regions in fixed-size chunks, never whole in memory."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
BLOCK = 512


def sha256_file(path: Path, chunk: int = CHUNK) -> tuple[str, int]:
    """(hex sha256, size) of a whole file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def sha256_stream(handle: BinaryIO, chunk: int = CHUNK) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while block := handle.read(chunk):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


def iter_region(handle: BinaryIO, offset: int, size: int, chunk: int = CHUNK) -> Iterator[bytes]:
    """The bytes [offset, offset+size) of a seekable file, in chunks. Raises EOFError if short."""
    handle.seek(offset)
    left = size
    while left:
        block = handle.read(min(chunk, left))
        if not block:
            raise EOFError(f"file ends {left} bytes before the end of a region")
        left -= len(block)
        yield block


def padding(size: int) -> bytes:
    """Zero bytes that round `size` up to a whole tar block."""
    return b"\0" * (-size % BLOCK)


class RegionReader(io.RawIOBase):
    """A read-only, seekable view of [offset, offset+size) of a seekable binary file."""

    def __init__(self, handle: BinaryIO, offset: int, size: int) -> None:
        super().__init__()
        self._handle = handle
        self._offset = offset
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        self._handle.seek(self._offset + self._pos)
        data = self._handle.read(want)
        memoryview(buffer)[: len(data)] = data
        self._pos += len(data)
        return len(data)
