"""`bundle export` against the real engine: the default image set, a missing image, and one
`docker save` for all images so a layer two images share appears once."""

from __future__ import annotations

import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from finsig_runner import __version__
from finsig_runner.core import signing
from finsig_runner.bundle import default_image_refs, verify_bundle
from finsig_runner.bundle.export import export_bundle
from finsig_runner.bundle.images import client_from_env
from finsig_runner.cli.main import main
from tests.runner.bundle.conftest import BASE_IMAGE
from tests.support.containers import LABELS

pytestmark = pytest.mark.docker


@pytest.fixture()
def client() -> Iterator[Any]:
    client = client_from_env()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture()
def derived_image(client: Any) -> Iterator[str]:
    """A tiny image FROM the base with one extra layer, labelled; removed afterwards."""
    tag = f"finsig-test/bundle-derived:{uuid.uuid4().hex[:8]}"
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (
            ("Dockerfile", f"FROM {BASE_IMAGE}\nCOPY marker /finsig-bundle-marker\n".encode()),
            ("marker", b"shared-layer test\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    client.images.build(
        fileobj=context, custom_context=True, tag=tag, labels=dict(LABELS),
        network_mode="none", pull=False, rm=True, forcerm=True,
    )
    try:
        yield tag
    finally:
        client.images.remove(tag, force=True, noprune=False)


@pytest.mark.timeout(60)
def test_default_image_set_is_every_finsig_image_at_the_version(client: Any) -> None:
    refs = default_image_refs(client, __version__)
    assert BASE_IMAGE in refs and f"finsig-runner:{__version__}" in refs  # both required
    assert refs == sorted(refs)
    for ref in refs:
        assert ref.endswith(f":{__version__}")
        assert ref.startswith("finsig/") or ref.startswith("finsig-runner:")


@pytest.mark.timeout(60)
def test_missing_image_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = signing.write_keypair(tmp_path / "keys")
    out = tmp_path / "b.tar"
    args = ["bundle", "export", str(out), "--key", str(files.private),
            "--images", BASE_IMAGE, "finsig/does-not-exist:0.0.0"]
    assert main(args) == 2
    assert "finsig/does-not-exist:0.0.0" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys"]


@pytest.mark.timeout(60)
def test_export_without_a_key_file_exits_2(tmp_path: Path) -> None:
    args = ["bundle", "export", str(tmp_path / "b.tar"), "--key", str(tmp_path / "none.key")]
    assert main(args) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.timeout(300)
def test_shared_layers_appear_once(client: Any, derived_image: str, tmp_path: Path) -> None:
    key = signing.generate_key()
    result = export_bundle(tmp_path / "b.tar", key, client, refs=[BASE_IMAGE, derived_image])
    try:
        verified = verify_bundle(result.bundle, key.public_key())
        layers = [
            m for m in verified.manifest.members
            if m.name.endswith("layer.tar") and m.type == "file"  # repeats are symlinks
        ]
        base_layers = len(client.images.get(BASE_IMAGE).attrs["RootFS"]["Layers"])
        assert len(layers) == base_layers + 1  # the base's layers once, plus the marker layer
        assert [i.ref for i in verified.manifest.images] == [BASE_IMAGE, derived_image]
        base_size = client.images.get(BASE_IMAGE).attrs["Size"]
        assert verified.manifest.images_tar.size < 1.5 * base_size
    finally:
        for path in tmp_path.iterdir():
            path.unlink()
