"""Import into a separate, empty engine (the isolated site): the small bundle loads with the
manifest's image IDs; a tampered bundle or a wrong key loads nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from finsig_runner.core import signing
from finsig_runner.bundle import BundleVerificationError, import_bundle
from finsig_runner.cli.main import main
from tests.runner.bundle.conftest import (
    BASE_IMAGE,
    SmallBundle,
    make_small_bundle,
    remove_small_bundle,
)
from tests.support.bundle_tamper import file_sha256, flipped, inner_positions

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallBundle]:
    made = make_small_bundle(tmp_path_factory)
    try:
        yield made
    finally:
        remove_small_bundle(made)


def _images(client: Any) -> list[str]:
    return sorted(str(image.id) for image in client.images.list(all=True))


@pytest.mark.timeout(180)
def test_tampered_bundle_loads_nothing(bundle: SmallBundle, second_engine: Any) -> None:
    client = second_engine.client()
    before = _images(client)
    assert BASE_IMAGE not in {t for i in client.images.list() for t in i.tags}
    position = inner_positions(bundle.path)["inside a layer"]
    with flipped(bundle.path, position):
        with pytest.raises(BundleVerificationError) as info:
            import_bundle(bundle.path, bundle.key.public_key(), client)
        assert info.value.check == "bundle sha256"
    assert _images(client) == before
    assert file_sha256(bundle.path) == bundle.sha256


@pytest.mark.timeout(180)
def test_wrong_key_loads_nothing(
    bundle: SmallBundle, second_engine: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = second_engine.client()
    before = _images(client)
    other = signing.write_keypair(tmp_path)
    monkeypatch.setenv("DOCKER_HOST", second_engine.host)
    assert main(["bundle", "import", str(bundle.path), "--pubkey", str(other.public)]) == 1
    assert "signature" in capsys.readouterr().err
    assert _images(client) == before


@pytest.mark.timeout(300)
def test_import_into_the_isolated_site_matches_the_manifest(
    bundle: SmallBundle, second_engine: Any, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = second_engine.client()
    assert bundle.image_id not in _images(client)
    monkeypatch.setenv("DOCKER_HOST", second_engine.host)  # the CLI honours it, as docker does
    started = time.monotonic()
    fingerprint = signing.fingerprint(bundle.key)  # pinned; the key comes from FILE.pub
    assert main(["bundle", "import", str(bundle.path), "--pubkey", fingerprint]) == 0
    seconds = time.monotonic() - started
    out = capsys.readouterr().out
    assert "image ids ........... ok" in out
    assert client.images.get(BASE_IMAGE).id == bundle.image_id
    print(f"\nsmall bundle: {bundle.size} bytes, export {bundle.export_seconds:.1f}s, "
          f"verify+import {seconds:.1f}s")
