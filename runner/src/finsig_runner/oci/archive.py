"""docker-archive files: read what `docker save` wrote, and write one that `docker load` reads.

A docker-archive is a tar holding `manifest.json` (a list with one entry per image: Config,
RepoTags, Layers), the config JSON, and one uncompressed tar per layer. Docker 20.10 also writes
`repositories` and legacy per-layer `json`/`VERSION` files; `docker load` and skopeo read only
manifest.json and what it names, so the writer here writes nothing else.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, BinaryIO

from finsig_runner.oci.config import canonical_json, diff_ids, parse_object
from finsig_runner.oci.errors import ImageFormatError
from finsig_runner.oci.streams import BLOCK, HashingWriter, file_header, padding

MANIFEST = "manifest.json"
MAX_JSON = 64 << 20


@dataclass(frozen=True)
class ArchiveEntry:
    """One image of a docker-archive's manifest.json."""

    config: str
    tags: tuple[str, ...]
    layers: tuple[str, ...]


class DockerArchive:
    """A docker-archive file holding one image, opened for random access (nothing is unpacked)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._tar = tarfile.open(path, mode="r:")
        except (OSError, tarfile.TarError) as exc:
            raise ImageFormatError(str(path), f"not a readable tar ({exc})") from exc
        self._members = {m.name.removeprefix("./"): m for m in self._tar.getmembers()}
        self.entry = self._entry()
        self.config_bytes = self.read_small(self.entry.config)
        self.config = parse_object(self.config_bytes, self.entry.config)
        self.diff_ids = diff_ids(self.config, self.entry.config)
        if len(self.diff_ids) != len(self.entry.layers):
            raise ImageFormatError(
                MANIFEST, f"{len(self.entry.layers)} layers but the config lists "
                f"{len(self.diff_ids)} diff_ids")

    def __enter__(self) -> DockerArchive:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._tar.close()

    def _member(self, name: str) -> tarfile.TarInfo:
        member = self._members.get(name.removeprefix("./"))
        if member is None or not member.isreg():
            raise ImageFormatError(str(self.path), f"has no file {name!r}")
        return member

    def read_small(self, name: str) -> bytes:
        member = self._member(name)
        if member.size > MAX_JSON:
            raise ImageFormatError(name, f"{member.size} bytes is too large for JSON metadata")
        return self.open(name).read()

    def open(self, name: str) -> IO[bytes]:
        """A member's bytes as a seekable stream, read in place inside the archive."""
        stream = self._tar.extractfile(self._member(name))
        if stream is None:
            raise ImageFormatError(str(self.path), f"{name!r} cannot be read")
        return stream

    def _entry(self) -> ArchiveEntry:
        raw: Any = parse_list(self.read_small(MANIFEST))
        if len(raw) != 1:
            raise ImageFormatError(MANIFEST, f"holds {len(raw)} images; save one image per "
                                   "archive (docker save IMAGE -o FILE)")
        item = raw[0]
        config, tags, layers = item.get("Config"), item.get("RepoTags") or [], item.get("Layers")
        if not isinstance(config, str) or not isinstance(layers, list) \
                or not all(isinstance(x, str) for x in [*layers, *tags]):
            raise ImageFormatError(MANIFEST, "needs Config (a path) and Layers (a list of paths)")
        return ArchiveEntry(config, tuple(tags), tuple(layers))


def parse_list(raw: bytes) -> list[dict[str, Any]]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ImageFormatError(MANIFEST, f"not JSON ({exc})") from exc
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ImageFormatError(MANIFEST, "expected a list of objects")
    return value


class ArchiveWriter:
    """Writes a docker-archive member by member into a seekable file, with fixed headers.

    A layer is streamed straight into the archive behind a placeholder header, which is filled
    in once the layer's digest (its name) and size are known — no copy of the layer is spooled.
    """

    def __init__(self, handle: BinaryIO, mtime: int) -> None:
        self._handle = handle
        self._mtime = mtime
        self._names: set[str] = set()

    @contextmanager
    def layer(self) -> Iterator[HashingWriter]:
        """Yield a writer for one layer tar; afterwards it is named `<hex>/layer.tar` after its
        digest (`writer.digest`). A layer already written is dropped again (same bytes)."""
        start = self._handle.tell()
        self._handle.write(b"\0" * BLOCK)
        writer = HashingWriter(self._handle)
        yield writer
        name = layer_path(writer.digest)
        if name in self._names:
            self._handle.seek(start)
            self._handle.truncate()
            return
        self._handle.write(padding(writer.size))
        end = self._handle.tell()
        self._handle.seek(start)
        self._handle.write(file_header(name, writer.size, self._mtime))
        self._handle.seek(end)
        self._names.add(name)

    def add_bytes(self, name: str, data: bytes) -> None:
        self._handle.write(file_header(name, len(data), self._mtime))
        self._handle.write(data)
        self._handle.write(padding(len(data)))
        self._names.add(name)

    def finish(self, config: bytes, config_digest: str, tags: Sequence[str],
               layer_digests: Sequence[str]) -> None:
        """The config, manifest.json and the end-of-archive marker."""
        config_name = f"{hex_of(config_digest)}.json"
        self.add_bytes(config_name, config)
        manifest = [{"Config": config_name, "RepoTags": list(tags),
                     "Layers": [layer_path(d) for d in layer_digests]}]
        self.add_bytes(MANIFEST, canonical_json(manifest))
        self._handle.write(b"\0" * (2 * BLOCK))
        self._handle.truncate()


def hex_of(digest: str) -> str:
    return digest.removeprefix("sha256:")


def layer_path(digest: str) -> str:
    return f"{hex_of(digest)}/layer.tar"
