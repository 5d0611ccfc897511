"""Staging loads the app image only from the bytes and the tag the image stage recorded."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from finsig_runner.core.errors import EvidenceError
from finsig_runner.stages.staging.verified_image import load_verified

from tests.support import evidence_set as es

pytestmark = pytest.mark.timeout(60)
TAG = "finsig/app:run-test"


def _archive(tags: list[str], filler: bytes = b"layer") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in (("manifest.json", json.dumps([{"RepoTags": tags}]).encode()),
                           ("layer.tar", filler)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


class _Client:
    def __init__(self) -> None:
        self.loaded: list[bytes] = []
        self.images = self

    def load(self, handle: Any) -> list[object]:
        self.loaded.append(handle.read())
        return []


def _run(root: Path, tar: bytes) -> Path:
    image = es.Fake("image", ("image.save",), {"artifacts/docker-image.tar": tar},
                    summary={"tag": TAG})
    es.run(es.workspace(root), [image], es.config(), only=["image"])
    return root


def test_the_recorded_tar_is_loaded(tmp_path: Path) -> None:
    root = _run(tmp_path / "ws", _archive([TAG]))
    client = _Client()
    assert load_verified(client, root) == TAG
    assert client.loaded == [(root / "artifacts" / "docker-image.tar").read_bytes()]


def test_a_swapped_tar_is_refused_before_docker_sees_it(tmp_path: Path) -> None:
    root = _run(tmp_path / "ws", _archive([TAG]))
    (root / "artifacts" / "docker-image.tar").write_bytes(_archive([TAG], b"other code"))
    client = _Client()
    with pytest.raises(EvidenceError, match="is not the .* the image stage recorded"):
        load_verified(client, root)
    assert client.loaded == []


def test_a_tar_that_would_retag_another_image_is_refused(tmp_path: Path) -> None:
    root = _run(tmp_path / "ws", _archive([TAG, "finsig/postgres:0.1.0"]))
    client = _Client()
    with pytest.raises(EvidenceError, match="carries the tags"):
        load_verified(client, root)
    assert client.loaded == []


def test_no_recorded_tar_is_no_load(tmp_path: Path) -> None:
    root = es.workspace(tmp_path / "ws")
    es.run(root, [es.Fake("lint", ("lint.flake8",))], es.config(), only=["lint"])
    with pytest.raises(EvidenceError, match="recorded no image tar"):
        load_verified(_Client(), root)
