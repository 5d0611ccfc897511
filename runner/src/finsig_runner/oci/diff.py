"""What differs between two images: config fields, which layers, and inside the first differing
layer, which files and in what (content, mode, mtime, owner, type, link, device, xattrs).

Used to explain a failed reproducibility check: two builds of one recipe, normalised, should be
byte-identical; when they are not, this names the layer and the files that broke it.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

from finsig_runner.oci.entries import ENCODING, ERRORS, display_path, kind, xattrs
from finsig_runner.oci.source import ImageView
from finsig_runner.oci.streams import CHUNK

ONLY_FIRST = "only-in-first"
ONLY_SECOND = "only-in-second"


@dataclass(frozen=True)
class EntryFacts:
    """Everything about one layer entry that a difference can be in."""

    type: str
    content: str  # sha256 of a regular file's data, "" otherwise
    mode: int
    mtime: int
    owner: tuple[int, int]
    link: str
    device: tuple[int, int]
    xattrs: tuple[tuple[str, str], ...]

    def differences(self, other: EntryFacts) -> tuple[str, ...]:
        aspects = ("type", "content", "mode", "mtime", "owner", "link", "device", "xattrs")
        return tuple(a for a in aspects if getattr(self, a) != getattr(other, a))


@dataclass(frozen=True)
class FileDiff:
    path: str
    differs: tuple[str, ...]  # aspects, or ONLY_FIRST / ONLY_SECOND

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "differs": list(self.differs)}


@dataclass(frozen=True)
class LayerDiff:
    index: int
    first: str  # diff_id in the first image ("" when it has no such layer)
    second: str
    files: tuple[FileDiff, ...]  # at most the `max_files` first, by path
    files_total: int

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "first": self.first, "second": self.second,
                "files": [f.to_json() for f in self.files], "files_total": self.files_total}


@dataclass(frozen=True)
class ImageDiff:
    first: str
    second: str
    first_id: str
    second_id: str
    config_fields: tuple[str, ...]  # dotted paths, e.g. created, history[7].created_by
    layer_count: tuple[int, int]
    differing_layers: tuple[int, ...]
    first_layer: LayerDiff | None

    @property
    def same(self) -> bool:
        return self.first_id == self.second_id

    def describe(self) -> str:
        if self.same:
            return f"same image ID {self.first_id}"
        parts = [f"image IDs differ ({self.first_id} vs {self.second_id})"]
        if self.config_fields:
            parts.append("config fields differ: " + ", ".join(self.config_fields))
        if self.layer_count[0] != self.layer_count[1]:
            parts.append(f"layer counts {self.layer_count[0]} vs {self.layer_count[1]}")
        if self.first_layer is not None:
            layer = self.first_layer
            files = ", ".join(f"{f.path} ({', '.join(f.differs)})" for f in layer.files)
            more = layer.files_total - len(layer.files)
            parts.append(f"first differing layer {layer.index} ({layer.first or 'none'} vs "
                         f"{layer.second or 'none'}): {files or 'no file differs'}"
                         + (f" and {more} more" if more > 0 else ""))
        later = self.differing_layers[1:]
        if later:
            parts.append("later differing layers: " + ", ".join(map(str, later)))
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"same": self.same, "first": self.first, "second": self.second,
                "first_id": self.first_id, "second_id": self.second_id,
                "config_fields": list(self.config_fields), "layer_count": list(self.layer_count),
                "differing_layers": list(self.differing_layers),
                "first_layer": self.first_layer.to_json() if self.first_layer else None}


def config_fields(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves that differ (lists of equal length are compared item by item)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(config_fields(a.get(key), b.get(key), name))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [field for i, (x, y) in enumerate(zip(a, b))
                for field in config_fields(x, y, f"{prefix}[{i}]")]
    return [] if a == b else [prefix or "(root)"]


def _content(tar: tarfile.TarFile, info: tarfile.TarInfo) -> str:
    stream = tar.extractfile(info) if info.isreg() else None
    if stream is None:
        return ""
    digest = hashlib.sha256()
    while block := stream.read(CHUNK):
        digest.update(block)
    return digest.hexdigest()


def index_layer(stream: IO[bytes]) -> dict[str, EntryFacts]:
    """path -> facts of every entry of a layer tar, read once as a stream."""
    facts: dict[str, EntryFacts] = {}
    with tarfile.open(fileobj=stream, mode="r|", encoding=ENCODING, errors=ERRORS) as tar:
        for info in tar:
            facts[display_path(info.name)] = EntryFacts(
                kind(info), _content(tar, info), info.mode, int(info.mtime),
                (info.uid, info.gid), info.linkname if info.issym() or info.islnk() else "",
                (info.devmajor, info.devminor) if info.ischr() or info.isblk() else (0, 0),
                tuple(xattrs(info).items()))
    return facts


def _files(a: Mapping[str, EntryFacts], b: Mapping[str, EntryFacts]) -> list[FileDiff]:
    out: list[FileDiff] = []
    for path in sorted(set(a) | set(b)):
        if path not in b:
            out.append(FileDiff(path, (ONLY_FIRST,)))
        elif path not in a:
            out.append(FileDiff(path, (ONLY_SECOND,)))
        elif differs := a[path].differences(b[path]):
            out.append(FileDiff(path, differs))
    return out


def _layer_facts(image: ImageView, index: int) -> dict[str, EntryFacts]:
    if index >= len(image.diff_ids):
        return {}
    with image.open_layer(index) as stream:
        return index_layer(stream)


def diff_images(first: ImageView, second: ImageView, max_files: int = 50) -> ImageDiff:
    """Compare two images; layer contents are read only for the first differing layer."""
    config_a, config_b = first.config, second.config
    config_a.pop("rootfs", None)
    config_b.pop("rootfs", None)
    fields = tuple(config_fields(config_a, config_b))
    ids_a, ids_b = first.diff_ids, second.diff_ids
    count = max(len(ids_a), len(ids_b))
    differing = tuple(i for i in range(count)
                      if i >= len(ids_a) or i >= len(ids_b) or ids_a[i] != ids_b[i])
    layer = None
    if differing:
        index = differing[0]
        files = _files(_layer_facts(first, index), _layer_facts(second, index))
        layer = LayerDiff(index, ids_a[index] if index < len(ids_a) else "",
                          ids_b[index] if index < len(ids_b) else "",
                          tuple(files[:max_files]), len(files))
    return ImageDiff(first.name, second.name, first.config_digest, second.config_digest, fields,
                     (len(ids_a), len(ids_b)), differing, layer)
