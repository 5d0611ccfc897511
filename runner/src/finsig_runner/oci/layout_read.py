"""Read an OCI image layout back: find an image by reference name, and verify every blob.

Verification re-hashes every blob an index entry reaches (manifest, config, layers), checks each
size, and checks that each layer's uncompressed sha256 is the config's diff_id (gzip layers are
decompressed as a stream). The first mismatch raises ImageFormatError naming the blob.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from finsig_runner.oci.config import diff_ids, parse_object
from finsig_runner.oci.errors import ImageFormatError, OciUsageError
from finsig_runner.oci.layout import (INDEX, INDEX_MEDIA_TYPE, LAYER_GZIP_MEDIA_TYPE,
                                      LAYER_MEDIA_TYPE, LAYOUT_FILE, LAYOUT_VERSION,
                                      MANIFEST_MEDIA_TYPE, REF_NAME, Descriptor, blob_path)
from finsig_runner.oci.streams import sha256_bytes, sha256_stream

LAYER_TYPES = (LAYER_MEDIA_TYPE, LAYER_GZIP_MEDIA_TYPE)
MAX_JSON = 64 << 20


@dataclass(frozen=True)
class LayoutImage:
    """One image of a layout: its manifest's descriptor and ref name, config and layers."""

    root: Path
    ref_name: str
    manifest: Descriptor
    config: Descriptor
    config_bytes: bytes
    diff_ids: tuple[str, ...]
    layers: tuple[Descriptor, ...]

    @contextmanager
    def open_layer(self, index: int) -> Iterator[IO[bytes]]:
        """The layer's tar bytes, uncompressed, as a stream."""
        layer = self.layers[index]
        with blob_path(self.root, layer.digest).open("rb") as raw:
            if layer.media_type == LAYER_GZIP_MEDIA_TYPE:
                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    yield cast(IO[bytes], unzipped)
            else:
                yield raw


@dataclass(frozen=True)
class LayoutReport:
    path: Path
    images: tuple[LayoutImage, ...]
    blobs: int
    bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "blobs": self.blobs, "bytes": self.bytes,
                "images": [{"ref_name": i.ref_name, "manifest_digest": i.manifest.digest,
                            "config_digest": i.config.digest, "layers": len(i.layers)}
                           for i in self.images]}


def descriptor(value: Any, where: str) -> Descriptor:
    if not isinstance(value, dict):
        raise ImageFormatError(where, "a descriptor must be an object")
    media, digest, size = value.get("mediaType"), value.get("digest"), value.get("size")
    if not isinstance(media, str) or not isinstance(digest, str) or not isinstance(size, int):
        raise ImageFormatError(where, "a descriptor needs mediaType, digest and size")
    return Descriptor(media, digest, size)


def read_blob(root: Path, desc: Descriptor) -> bytes:
    """A small blob (JSON), checked against its descriptor's size and digest."""
    path = blob_path(root, desc.digest)
    if not path.is_file():
        raise ImageFormatError(desc.digest, "blob is missing")
    if desc.size > MAX_JSON or path.stat().st_size != desc.size:
        raise ImageFormatError(desc.digest, f"blob is {path.stat().st_size} bytes, "
                               f"its descriptor says {desc.size}")
    with path.open("rb") as handle:
        data = handle.read()
    _check_digest(desc, sha256_bytes(data), len(data))
    return data


def _check_digest(desc: Descriptor, digest: str, size: int) -> None:
    if size != desc.size:
        raise ImageFormatError(desc.digest,
                               f"blob is {size} bytes, its descriptor says {desc.size}")
    if digest != desc.digest:
        raise ImageFormatError(desc.digest, f"blob's sha256 is {digest}")


def index_entries(root: Path) -> list[tuple[str, Descriptor]]:
    """(ref name, descriptor) of every image manifest index.json names (nested indexes followed)."""
    marker = root / LAYOUT_FILE
    if not marker.is_file():
        raise OciUsageError(f"{root} is not an OCI image layout (no {LAYOUT_FILE})")
    version = parse_object(marker.read_bytes(), LAYOUT_FILE).get("imageLayoutVersion")
    if version != LAYOUT_VERSION:
        raise ImageFormatError(LAYOUT_FILE, f"imageLayoutVersion {version!r}, expected "
                               f"{LAYOUT_VERSION}")
    index = parse_object((root / INDEX).read_bytes(), INDEX) if (root / INDEX).is_file() else {}
    return list(_walk(root, index, INDEX, ""))


def _walk(root: Path, index: dict[str, Any], where: str, ref: str
          ) -> Iterator[tuple[str, Descriptor]]:
    manifests = index.get("manifests")
    if not isinstance(manifests, list):
        raise ImageFormatError(where, "has no manifests list")
    for number, item in enumerate(manifests):
        desc = descriptor(item, f"{where} manifests[{number}]")
        annotations = item.get("annotations") or {}
        name = str(annotations.get(REF_NAME, ref)) if isinstance(annotations, dict) else ref
        if desc.media_type == INDEX_MEDIA_TYPE:
            yield from _walk(root, parse_object(read_blob(root, desc), desc.digest),
                             desc.digest, name)
        elif desc.media_type == MANIFEST_MEDIA_TYPE:
            yield name, desc
        else:
            raise ImageFormatError(desc.digest, f"unsupported media type {desc.media_type}")


def load_image(root: Path, ref_name: str, desc: Descriptor) -> LayoutImage:
    """Read (and check the digests of) an image's manifest and config."""
    manifest = parse_object(read_blob(root, desc), desc.digest)
    config = descriptor(manifest.get("config"), f"{desc.digest} config")
    layers_raw = manifest.get("layers")
    if not isinstance(layers_raw, list):
        raise ImageFormatError(desc.digest, "manifest has no layers list")
    layers = tuple(descriptor(x, f"{desc.digest} layers[{n}]") for n, x in enumerate(layers_raw))
    for layer in layers:
        if layer.media_type not in LAYER_TYPES:
            raise ImageFormatError(layer.digest, f"unsupported layer type {layer.media_type}")
    config_bytes = read_blob(root, config)
    ids = diff_ids(parse_object(config_bytes, config.digest), config.digest)
    if len(ids) != len(layers):
        raise ImageFormatError(desc.digest, f"{len(layers)} layers, {len(ids)} diff_ids")
    return LayoutImage(root, ref_name, desc, config, config_bytes, ids, layers)


def find_image(root: Path, ref_name: str | None = None) -> LayoutImage:
    """The image named `ref_name`, or the only image of the layout."""
    entries = index_entries(root)
    names = [name for name, _ in entries]
    if ref_name is None:
        if len(entries) != 1:
            raise OciUsageError(f"{root} holds {len(entries)} images ({', '.join(names)}): "
                                "name one with --ref")
        return load_image(root, *entries[0])
    for name, desc in entries:
        if name == ref_name:
            return load_image(root, name, desc)
    raise OciUsageError(f"{root} has no image named {ref_name!r} (it has: {', '.join(names)})")


def verify_layout(root: Path) -> LayoutReport:
    """Check every blob of every image in the layout; raise on the first that does not match."""
    images: list[LayoutImage] = []
    seen: dict[str, int] = {}
    for name, desc in index_entries(root):
        image = load_image(root, name, desc)
        seen.update({desc.digest: desc.size, image.config.digest: image.config.size})
        for number, layer in enumerate(image.layers):
            if layer.digest not in seen:
                _verify_layer(image, number)
                seen[layer.digest] = layer.size
        images.append(image)
    return LayoutReport(root, tuple(images), len(seen), sum(seen.values()))


def _verify_layer(image: LayoutImage, number: int) -> None:
    layer = image.layers[number]
    path = blob_path(image.root, layer.digest)
    if not path.is_file():
        raise ImageFormatError(layer.digest, f"layer {number} blob is missing")
    with path.open("rb") as handle:
        _check_digest(layer, *sha256_stream(handle))
    if layer.media_type == LAYER_MEDIA_TYPE:
        uncompressed = layer.digest
    else:
        with image.open_layer(number) as stream:
            uncompressed, _ = sha256_stream(stream)
    if uncompressed != image.diff_ids[number]:
        raise ImageFormatError(layer.digest, f"layer {number} unpacks to {uncompressed}, the "
                               f"config's diff_id is {image.diff_ids[number]}")
