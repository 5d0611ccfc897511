"""One view of an image, whether it is a docker-archive file or an OCI layout directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from finsig_runner.oci.archive import DockerArchive
from finsig_runner.oci.config import parse_object
from finsig_runner.oci.errors import OciUsageError
from finsig_runner.oci.layout_read import find_image
from finsig_runner.oci.streams import sha256_bytes


@dataclass(frozen=True)
class ImageView:
    """What the diff needs: the config (bytes and parsed), the layers' diff_ids, and a way to
    read each layer's uncompressed tar as a stream."""

    name: str
    config_bytes: bytes
    diff_ids: tuple[str, ...]
    open_layer: Callable[[int], AbstractContextManager[IO[bytes]]]

    @property
    def config_digest(self) -> str:
        return sha256_bytes(self.config_bytes)

    @property
    def config(self) -> dict[str, Any]:
        return parse_object(self.config_bytes, f"{self.name} config")


@contextmanager
def open_image(path: Path, ref_name: str | None = None) -> Iterator[ImageView]:
    """A docker-archive (a file) or an OCI layout (a directory; `ref_name` picks the image when
    it holds several)."""
    if path.is_dir():
        image = find_image(path, ref_name)
        yield ImageView(f"{path}:{image.ref_name}", image.config_bytes, image.diff_ids,
                        image.open_layer)
        return
    if not path.is_file():
        raise OciUsageError(f"{path}: no such docker-archive or OCI layout")
    with DockerArchive(path) as archive:
        def open_layer(index: int) -> AbstractContextManager[IO[bytes]]:
            return nullcontext(archive.open(archive.entry.layers[index]))

        yield ImageView(str(path), archive.config_bytes, archive.diff_ids, open_layer)
