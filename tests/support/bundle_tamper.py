"""In-place tampering that is always undone: flip a byte, cut the tail, re-sign a changed manifest.

Nothing here copies a bundle: bytes are changed where they are and restored in `finally`.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from finsig_runner.bundle.export import sign_statement
from finsig_runner.bundle.layout import Layout, images_tar, read_layout, write_tail
from finsig_runner.bundle.streams import sha256_file


def file_sha256(path: Path) -> str:
    return sha256_file(path)[0]


def layout_of(path: Path) -> Layout:
    with path.open("rb") as handle:
        return read_layout(handle, path.stat().st_size)


@contextmanager
def flipped(path: Path, position: int, mask: int = 0xFF) -> Iterator[None]:
    """XOR one byte in place; restore it afterwards, whatever happens."""
    with path.open("r+b") as handle:
        handle.seek(position)
        original = handle.read(1)
        assert len(original) == 1, f"position {position} is past the end"
        handle.seek(position)
        handle.write(bytes([original[0] ^ mask]))
    try:
        yield
    finally:
        with path.open("r+b") as handle:
            handle.seek(position)
            handle.write(original)


@contextmanager
def truncated(path: Path, cut: int) -> Iterator[None]:
    """Remove the last `cut` bytes (kept in memory: keep `cut` small); put them back afterwards."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(size - cut)
        tail = handle.read()
        handle.truncate(size - cut)
    try:
        yield
    finally:
        with path.open("r+b") as handle:
            handle.seek(size - cut)
            handle.write(tail)


@contextmanager
def resigned_manifest(
    path: Path, key: Ed25519PrivateKey, edit: Callable[[dict[str, Any]], None]
) -> Iterator[None]:
    """Rewrite manifest.json through `edit`, then re-sign the whole bundle validly with `key`
    (what someone holding the signing key could do). Restores tail and envelope afterwards."""
    layout = layout_of(path)
    envelope = Path(f"{path}.dsse")
    saved_envelope = envelope.read_bytes()
    with path.open("rb") as handle:
        handle.seek(layout.manifest_header)
        saved_tail = handle.read()
        handle.seek(layout.manifest_offset)
        manifest = json.loads(handle.read(layout.manifest_size))
    edit(manifest)
    new_manifest = (json.dumps(manifest, sort_keys=True, indent=2) + "\n").encode()
    try:
        with path.open("r+b") as handle:
            write_tail(handle, layout.manifest_header, new_manifest, 0)
        sha, size = sha256_file(path)
        envelope.write_bytes(
            sign_statement(path.name, sha, size, new_manifest, manifest["created"], key)
        )
        yield
    finally:
        with path.open("r+b") as handle:
            handle.seek(layout.manifest_header)
            handle.write(saved_tail)
            handle.truncate(layout.manifest_header + len(saved_tail))
        envelope.write_bytes(saved_envelope)


def inner_positions(path: Path) -> dict[str, int]:
    """Absolute file positions of interesting bytes inside images.tar: a member's header, the
    padding after a member whose size is not a multiple of 512, and the middle of the largest
    layer."""
    layout = layout_of(path)
    base = layout.images_offset
    found: dict[str, int] = {}
    with path.open("rb") as handle, images_tar(handle, base, layout.images_size) as inner:
        infos = inner.getmembers()
    files = [i for i in infos if i.isreg()]
    found["inner header"] = base + files[0].offset + 124  # the size field of a member's header
    for info in files:
        if info.size % 512:
            found["inner padding"] = base + info.offset_data + info.size  # first pad byte
            break
    layer = max((i for i in files if i.name.endswith("layer.tar")), key=lambda i: i.size)
    found["inside a layer"] = base + layer.offset_data + layer.size // 2
    found["outer padding"] = layout.manifest_offset + layout.manifest_size  # after manifest.json
    found["outer header images.tar"] = 0 + 124
    found["outer header manifest.json"] = layout.manifest_header + 148  # checksum field
    return found


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _go_style_tar(members: list[tuple[str, bytes | None]]) -> bytes:
    """A tar as Go's archive/tar (and so `docker save`) writes it: headers, data, block padding
    and two zero blocks at the end, without tarfile's padding to a 10 KiB record."""
    out = bytearray()
    for name, content in members:
        info = tarfile.TarInfo(name)
        if content is None:
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            out += info.tobuf(format=tarfile.USTAR_FORMAT)
            continue
        info.size = len(content)
        out += info.tobuf(format=tarfile.USTAR_FORMAT) + content + b"\0" * (-len(content) % 512)
    return bytes(out + b"\0" * 1024)


def synthetic_save(tag: str = "finsig/synthetic:0.1.0") -> tuple[bytes, str]:
    """A small archive shaped like `docker save` of one image (config, one layer, manifest.json,
    repositories). Returns (tar bytes, image id)."""
    layer_bytes = _go_style_tar([("etc/finsig-synthetic", b"FINSIG synthetic layer\n" * 20)])
    diff_id = "sha256:" + sha256_hex(layer_bytes)
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {"Labels": {"finsig.test": "1"}},
         "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "history": []},
        sort_keys=True,
    ).encode()
    image_hex = sha256_hex(config)
    layer_dir = sha256_hex(layer_bytes + b"dir")
    name, _, version = tag.rpartition(":")
    archive = _go_style_tar([
        (f"{image_hex}.json", config),
        (f"{layer_dir}", None),
        (f"{layer_dir}/VERSION", b"1.0"),
        (f"{layer_dir}/json", b'{"id":"' + layer_dir.encode() + b'"}'),
        (f"{layer_dir}/layer.tar", layer_bytes),
        ("manifest.json", json.dumps([{"Config": f"{image_hex}.json", "RepoTags": [tag],
                                       "Layers": [f"{layer_dir}/layer.tar"]}]).encode()),
        ("repositories", json.dumps({name: {version: layer_dir}}).encode()),
    ])
    return archive, "sha256:" + image_hex
