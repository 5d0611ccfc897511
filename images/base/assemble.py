#!/usr/bin/env python3
"""Wrap a root filesystem tar into a docker-archive that `docker load` accepts.

Why not `docker import`: it stamps the current time into the image config, so the image ID
changes on every build. Here the config is written by us, with `created` taken from
SOURCE_DATE_EPOCH, so the same rootfs tar and the same settings give the same config bytes,
the same config digest and hence the same image ID (Docker's image ID is the config's digest).

The archive holds, in this order: the layer tar (`<diff_id hex>/layer.tar`, the rootfs tar as
is), the config (`<config digest hex>.json`) and `manifest.json`. Every tar header is fixed
(mtime = SOURCE_DATE_EPOCH, uid/gid 0, no user names, fixed modes), so the archive is
byte-identical for the same input too. Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8")


@dataclass(frozen=True)
class ImageSpec:
    """What goes into the image config besides the layer."""

    tag: str
    epoch: int
    labels: dict[str, str]
    env: tuple[str, ...] = DEFAULT_ENV
    cmd: tuple[str, ...] = ("/bin/bash",)
    created_by: str = "mmdebstrap"
    architecture: str = "amd64"


@dataclass(frozen=True)
class ArchiveResult:
    """Digests of what was written (hex sha256, no prefix)."""

    layer_sha256: str
    config_sha256: str
    archive_sha256: str
    config: bytes


def rfc3339(epoch: int) -> str:
    """SOURCE_DATE_EPOCH as an RFC 3339 UTC timestamp, e.g. 2026-11-26T04:05:40Z."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def config_json(spec: ImageSpec, layer_sha256: str) -> bytes:
    """The image config, serialized canonically (sorted keys, no spaces)."""
    created = rfc3339(spec.epoch)
    config = {
        "architecture": spec.architecture,
        "os": "linux",
        "created": created,
        "config": {
            "Env": list(spec.env),
            "Cmd": list(spec.cmd),
            "Labels": dict(sorted(spec.labels.items())),
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_sha256}"]},
        "history": [{"created": created, "created_by": spec.created_by}],
    }
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def _member(name: str, size: int, epoch: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = epoch
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


def _directory(name: str, epoch: int) -> tarfile.TarInfo:
    info = _member(name, 0, epoch)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    return info


def write_archive(layer: Path, spec: ImageSpec, out: Path) -> ArchiveResult:
    """Write the docker-archive for `layer` (an uncompressed rootfs tar) to `out`."""
    layer_sha = sha256_file(layer)
    config = config_json(spec, layer_sha)
    config_sha = hashlib.sha256(config).hexdigest()
    manifest = [{
        "Config": f"{config_sha}.json",
        "RepoTags": [spec.tag],
        "Layers": [f"{layer_sha}/layer.tar"],
    }]
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()

    with tarfile.open(out, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        archive.addfile(_directory(f"{layer_sha}/", spec.epoch))
        with layer.open("rb") as layer_file:
            archive.addfile(_member(f"{layer_sha}/layer.tar", layer.stat().st_size, spec.epoch),
                            layer_file)
        archive.addfile(_member(f"{config_sha}.json", len(config), spec.epoch), io.BytesIO(config))
        archive.addfile(_member("manifest.json", len(manifest_bytes), spec.epoch),
                        io.BytesIO(manifest_bytes))
    return ArchiveResult(layer_sha, config_sha, sha256_file(out), config)


def _parse_label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"label must be KEY=VALUE, got {text!r}")
    return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--layer", type=Path, required=True, help="the rootfs tar (uncompressed)")
    parser.add_argument("--out", type=Path, required=True, help="the docker-archive to write")
    parser.add_argument("--tag", required=True, help="repository:tag recorded in manifest.json")
    parser.add_argument("--epoch", type=int, required=True, help="SOURCE_DATE_EPOCH")
    parser.add_argument("--label", type=_parse_label, action="append", default=[],
                        help="KEY=VALUE image label (repeatable)")
    parser.add_argument("--created-by", default="mmdebstrap", help="history entry text")
    parser.add_argument("--info", type=Path, help="write the digests as JSON here")
    args = parser.parse_args(argv)

    spec = ImageSpec(tag=args.tag, epoch=args.epoch, labels=dict(args.label),
                     created_by=args.created_by)
    result = write_archive(args.layer, spec, args.out)
    info = {
        "tag": spec.tag,
        "created": rfc3339(spec.epoch),
        "rootfs_sha256": result.layer_sha256,
        "config_digest": f"sha256:{result.config_sha256}",
        "archive_sha256": result.archive_sha256,
    }
    text = json.dumps(info, indent=2, sort_keys=True) + "\n"
    if args.info:
        args.info.write_text(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
