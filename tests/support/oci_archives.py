"""Synthetic docker-archives for the OCI room's unit tests: layer tars and `docker save`-shaped
archives built in memory from a few entries, with the per-build stamps the legacy builder leaves
(build times, host user names, atime/ctime PAX records, build container IDs) under the test's
control, so two "builds" can differ in exactly those stamps."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EPOCH = 1_700_000_000
LATER = EPOCH + 86_400  # a build time: after SOURCE_DATE_EPOCH


@dataclass(frozen=True)
class Entry:
    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    uname: str = "root"
    gname: str = "root"
    mtime: float = LATER
    linkname: str = ""
    pax: Mapping[str, str] = field(default_factory=dict)


def file(name: str, data: bytes, **kw: Any) -> Entry:
    return Entry(name, data, **kw)


def directory(name: str, **kw: Any) -> Entry:
    return Entry(name, type=tarfile.DIRTYPE, mode=kw.pop("mode", 0o755), **kw)


def symlink(name: str, target: str, **kw: Any) -> Entry:
    return Entry(name, type=tarfile.SYMTYPE, mode=0o777, linkname=target, **kw)


def hardlink(name: str, target: str, **kw: Any) -> Entry:
    return Entry(name, type=tarfile.LNKTYPE, linkname=target, **kw)


def layer_tar(entries: Sequence[Entry], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """A layer tar holding `entries` in the order given."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=fmt) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type, info.mode, info.mtime = entry.type, entry.mode, entry.mtime
            info.uid, info.gid = entry.uid, entry.gid
            info.uname, info.gname = entry.uname, entry.gname
            info.linkname = entry.linkname
            info.pax_headers = dict(entry.pax)
            if entry.type == tarfile.REGTYPE:
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
            else:
                tar.addfile(info)
    return out.getvalue()


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


CONTAINER = "e255488a918b0e939b53ae48b9bba63b475bc8e52c50075dbd44d1a4a85a8e5a"


def docker_config(layers: Sequence[bytes], created: str = "2023-11-15T22:13:20.123456789Z",
                  container: str = CONTAINER, labels: Mapping[str, str] | None = None
                  ) -> dict[str, Any]:
    """A config shaped like the legacy builder's: times, the build container, its hostname."""
    run = {"Hostname": "", "Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"],
           "Image": f"sha256:{hashlib.sha256(container.encode()).hexdigest()}",
           "Labels": dict(labels or {})}
    return {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": run, "container": container,
        "container_config": {**run, "Hostname": container[:12],
                             "Cmd": ["/bin/sh", "-c", "#(nop)"]},
        "docker_version": "20.10.24+dfsg1",
        "history": [{"created": created, "created_by": f"/bin/sh -c step {n}"}
                    for n in range(len(layers))] + [
            {"created": created, "created_by": "/bin/sh -c #(nop) USER 1", "empty_layer": True}],
        "rootfs": {"type": "layers", "diff_ids": [sha256(layer) for layer in layers]},
    }


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    tar.addfile(info, io.BytesIO(data))


def docker_archive(path: Path, layers: Sequence[bytes], config: Mapping[str, Any] | None = None,
                   tags: Sequence[str] = ("finsig-test/oci:1",), saved_at: float = LATER) -> Path:
    """Write a docker-archive shaped like `docker save`'s: per-layer directories named by a
    build-dependent ID (with legacy json/VERSION files), the config, manifest.json, repositories."""
    doc = dict(config) if config is not None else docker_config(layers)
    config_bytes = json.dumps(doc).encode()
    config_hex = hashlib.sha256(config_bytes).hexdigest()
    layer_dirs = [hashlib.sha256(f"{config_hex}{n}".encode()).hexdigest()
                  for n in range(len(layers))]
    manifest = [{"Config": f"{config_hex}.json", "RepoTags": list(tags),
                 "Layers": [f"{d}/layer.tar" for d in layer_dirs]}]
    with tarfile.open(path, "w") as tar:
        for layer_dir, layer in sorted(zip(layer_dirs, layers)):
            _add(tar, f"{layer_dir}/VERSION", b"1.0", saved_at)
            _add(tar, f"{layer_dir}/json", json.dumps({"id": layer_dir}).encode(), saved_at)
            _add(tar, f"{layer_dir}/layer.tar", layer, saved_at)
        _add(tar, f"{config_hex}.json", config_bytes, saved_at)
        _add(tar, "manifest.json", json.dumps(manifest).encode(), 0)
        _add(tar, "repositories", b"{}", 0)
    return path


def members(archive: Path) -> dict[str, bytes]:
    """Every regular file of a tar, by name (small test archives only)."""
    with tarfile.open(archive) as tar:
        out: dict[str, bytes] = {}
        for member in tar.getmembers():
            stream = tar.extractfile(member) if member.isreg() else None
            if stream is not None:
                out[member.name] = stream.read()
        return out


def layer_entries(layer: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        return tar.getmembers()
