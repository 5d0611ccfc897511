"""Timestamp-based pyc files: their header holds the source's mtime and size at compile time.

A pyc written at build time by pip or compileall without SOURCE_DATE_EPOCH is timestamp-based
(PEP 552 flags 0): its bytes carry the build time, so two builds differ, and once the normaliser
clamps the source's mtime the pyc no longer matches it (Python then recompiles on every start).
With SOURCE_DATE_EPOCH set, py_compile writes checked-hash pycs (flags 3), which depend on the
source's content only. Setting it in the recipe's RUN steps is the recipe's job; this module
names the pycs that show it was not set.
"""

from __future__ import annotations

import enum
import struct
import tarfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from finsig_runner.oci.entries import ENCODING, ERRORS, display_path

if TYPE_CHECKING:
    from finsig_runner.oci.source import ImageView

HEADER_SIZE = 16


class PycKind(enum.Enum):
    TIMESTAMP = "timestamp"
    CHECKED_HASH = "checked-hash"
    UNCHECKED_HASH = "unchecked-hash"


@dataclass(frozen=True)
class PycHeader:
    kind: PycKind
    source_mtime: int | None  # only for TIMESTAMP pycs


@dataclass(frozen=True)
class TimestampPyc:
    """A timestamp-based pyc in layer `layer` (0-based) at `path`, compiled from a source whose
    mtime was `source_mtime`."""

    layer: int
    path: str
    source_mtime: int

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "path": self.path, "source_mtime": self.source_mtime}


def read_header(head: bytes) -> PycHeader | None:
    """The PEP 552 header of a pyc (its first 16 bytes), or None when `head` is not one."""
    if len(head) < HEADER_SIZE or head[2:4] != b"\r\n":
        return None
    (flags,) = struct.unpack_from("<I", head, 4)
    if flags == 0:
        (mtime,) = struct.unpack_from("<I", head, 8)
        return PycHeader(PycKind.TIMESTAMP, mtime)
    if flags == 0b11:
        return PycHeader(PycKind.CHECKED_HASH, None)
    if flags == 0b01:
        return PycHeader(PycKind.UNCHECKED_HASH, None)
    return None


def is_pyc(info: tarfile.TarInfo) -> bool:
    return info.isreg() and info.name.endswith(".pyc") and info.size >= HEADER_SIZE


def timestamp_pycs(layer: IO[bytes], index: int, newer_than: int | None = None
                   ) -> tuple[TimestampPyc, ...]:
    """Every timestamp-based pyc in one layer tar (read once, as a stream), in archive order;
    with `newer_than`, only those whose source mtime is later than it (stamped at build time
    rather than taken from a package's fixed mtimes)."""
    found: list[TimestampPyc] = []
    with tarfile.open(fileobj=layer, mode="r|", encoding=ENCODING, errors=ERRORS) as tar:
        for info in tar:
            if not is_pyc(info):
                continue
            stream = tar.extractfile(info)
            header = read_header(stream.read(HEADER_SIZE)) if stream else None
            if header is None or header.kind is not PycKind.TIMESTAMP:
                continue
            mtime = header.source_mtime or 0
            if newer_than is None or mtime > newer_than:
                found.append(TimestampPyc(index, display_path(info.name), mtime))
    return tuple(found)


def image_timestamp_pycs(image: ImageView, newer_than: int | None = None
                         ) -> tuple[TimestampPyc, ...]:
    """timestamp_pycs() over every layer of an image, lowest layer first."""
    found: list[TimestampPyc] = []
    for index in range(len(image.diff_ids)):
        with image.open_layer(index) as stream:
            found.extend(timestamp_pycs(stream, index, newer_than))
    return tuple(found)
