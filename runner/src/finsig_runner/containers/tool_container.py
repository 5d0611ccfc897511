"""A tool inside one of the project's images: a labelled container with no network, files copied
in (never bind-mounted: that breaks inside the runner container), each call a `docker exec`."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any


@dataclass(frozen=True)
class ExecResult:
    argv: tuple[str, ...]
    exit_code: int
    output: str
    duration: float


def tar_of(files: Iterable[tuple[Path, str]]) -> bytes:
    """A tar holding each (file on disk, absolute target path) with mode 0644, owned by root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for source, target in files:
            data = source.read_bytes()
            info = tarfile.TarInfo(str(PurePosixPath(target).relative_to("/")))
            info.size = len(data)
            info.mode = 0o644
            info.mtime = int(source.stat().st_mtime)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class ToolContainer:
    """`with ToolContainer(client, image, labels, files) as tool: tool.run([...])`."""

    def __init__(self, client: Any, image: str, labels: dict[str, str],
                 files: Iterable[tuple[Path, str]], name: str | None = None) -> None:
        self._client = client
        self._image = image
        self._labels = labels
        self._files = list(files)
        self._name = name
        self.container: Any = None

    def __enter__(self) -> ToolContainer:
        self.container = self._client.containers.create(
            self._image, entrypoint=["sleep", "infinity"], network_mode="none",
            labels=self._labels, name=self._name, detach=True)
        try:
            if self._files:
                self.container.put_archive("/", tar_of(self._files))
            self.container.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.container is not None:
            import docker.errors

            try:
                self.container.remove(force=True, v=True)
            except docker.errors.NotFound:
                pass
            self.container = None

    def run(self, argv: list[str]) -> ExecResult:
        started = time.monotonic()
        code, output = self.container.exec_run(argv, demux=False)
        text = (output or b"").decode("utf-8", errors="replace")
        return ExecResult(tuple(argv), -1 if code is None else int(code), text,
                          time.monotonic() - started)
