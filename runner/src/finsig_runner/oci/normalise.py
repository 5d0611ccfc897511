"""Normalise a `docker save` archive: the same recipe from the same inputs gives the same bytes.

What changes (and why) is written in docs/images.md, "Reproducible images: how the normaliser
works". In short: every layer tar is rewritten by finsig_runner.oci.layer (order, mtimes, owner
names, PAX records), the config by finsig_runner.oci.config (created, history, the build
container's traces, diff_ids), and the archive is written with fixed headers, its layers named
by their digest. The image ID of the result is the sha256 of its config.

What it cannot change: file contents. A pyc compiled at build time without SOURCE_DATE_EPOCH
holds the build time (see finsig_runner.oci.pyc): the recipe must set SOURCE_DATE_EPOCH in its
RUN steps, so pip and compileall write checked-hash pycs. The result lists the timestamp-based
pycs whose source time is later than the epoch. Likewise a file that records the date
(/etc/shadow's last-change day, a log) must be fixed by the recipe; `diff` names such files.

Disk: the output is written as `<target>.partial` beside the target and renamed at the end; the
layers are streamed from the source archive into it, so the extra disk is the output's size and
nothing is spooled elsewhere. Memory: one layer's entry headers.
"""

from __future__ import annotations

import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finsig_runner.core.hashing import sha256_file
from finsig_runner.oci.archive import ArchiveWriter, DockerArchive
from finsig_runner.oci.config import normalise_config
from finsig_runner.oci.errors import ImageFormatError, OciIOError, OciUsageError
from finsig_runner.oci.layer import MtimeMode, normalise_layer
from finsig_runner.oci.pyc import TimestampPyc
from finsig_runner.oci.streams import atomic_output, copy_stream, sha256_bytes


@dataclass(frozen=True)
class NormaliseOptions:
    """`epoch` is SOURCE_DATE_EPOCH. `tags` replace the archive's RepoTags when given. Layers
    whose diff_id is in `keep` are copied unchanged (e.g. a base image's layers that are already
    reproducible, so the result shares them with the base in the engine)."""

    epoch: int
    mtime: MtimeMode = MtimeMode.CLAMP
    tags: tuple[str, ...] = ()
    keep: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class NormaliseResult:
    path: Path
    image_id: str  # sha256:<hex> of the config: what `docker load` reports as the image ID
    archive_sha256: str
    diff_ids: tuple[str, ...]
    kept: tuple[int, ...]  # indices of the layers copied unchanged
    tags: tuple[str, ...]
    timestamp_pycs: tuple[TimestampPyc, ...]  # only those stamped after the epoch
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "image_id": self.image_id,
            "archive_sha256": self.archive_sha256, "diff_ids": list(self.diff_ids),
            "kept_layers": list(self.kept), "tags": list(self.tags),
            "timestamp_pycs": [p.to_json() for p in self.timestamp_pycs],
            "seconds": round(self.seconds, 3),
        }


def _copy_layer(archive: DockerArchive, index: int, writer: Any) -> None:
    copy_stream(archive.open(archive.entry.layers[index]), writer)
    if writer.digest != archive.diff_ids[index]:
        raise ImageFormatError(archive.entry.layers[index],
                               f"sha256 is {writer.digest}, the config says "
                               f"{archive.diff_ids[index]}")


def _write(archive: DockerArchive, out: ArchiveWriter, options: NormaliseOptions
           ) -> tuple[tuple[str, ...], tuple[int, ...], tuple[TimestampPyc, ...]]:
    digests: list[str] = []
    kept: list[int] = []
    pycs: list[TimestampPyc] = []
    for index, path in enumerate(archive.entry.layers):
        with out.layer() as writer:
            if archive.diff_ids[index] in options.keep:
                _copy_layer(archive, index, writer)
                kept.append(index)
            else:
                try:
                    found = normalise_layer(archive.open(path), writer, options.epoch,
                                            options.mtime, index)
                except (tarfile.TarError, EOFError) as exc:
                    raise ImageFormatError(path, f"layer {index} is not a readable tar ({exc})"
                                           ) from exc
                pycs.extend(p for p in found if p.source_mtime > options.epoch)
        digests.append(writer.digest)
    return tuple(digests), tuple(kept), tuple(pycs)


def normalise(source: Path, target: Path, options: NormaliseOptions) -> NormaliseResult:
    """Write the normalised form of the docker-archive `source` to `target` (replaced whole, or
    left untouched on any error)."""
    if options.epoch < 0:
        raise OciUsageError(f"SOURCE_DATE_EPOCH must be >= 0, got {options.epoch}")
    if not source.is_file():
        raise OciUsageError(f"{source}: no such file (write it with docker save IMAGE -o FILE)")
    if target.resolve() == source.resolve():
        raise OciUsageError(f"{target}: write the normalised archive to another file")
    started = time.monotonic()
    try:
        with DockerArchive(source) as archive, atomic_output(target) as handle:
            out = ArchiveWriter(handle, options.epoch)
            digests, kept, pycs = _write(archive, out, options)
            config = normalise_config(archive.config_bytes, options.epoch, digests)
            image_id = sha256_bytes(config)
            tags = options.tags or archive.entry.tags
            out.finish(config, image_id, tags, digests)
    except OSError as exc:
        raise OciIOError(f"normalising {source} into {target} failed: {exc}") from exc
    return NormaliseResult(target, image_id, f"sha256:{sha256_file(target)}", digests, kept,
                           tuple(tags), pycs, time.monotonic() - started)
