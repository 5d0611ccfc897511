"""The small bundle (finsig/base alone) made from the real engine: verified untouched, and every
single-byte change (fixed places and seeded random ones), truncation, wrong key and a validly
re-signed lying manifest are all refused. Bytes are flipped in place and restored."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from finsig_runner.core import signing
from finsig_runner.bundle import BundleVerificationError, verify_bundle
from finsig_runner.cli.main import main
from tests.runner.bundle.conftest import SmallBundle, make_small_bundle, remove_small_bundle
from tests.support.bundle_tamper import (
    file_sha256,
    flipped,
    inner_positions,
    resigned_manifest,
    truncated,
)

pytestmark = pytest.mark.docker

SEED = 20261126
RANDOM_FLIPS = 12


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmallBundle]:
    made = make_small_bundle(tmp_path_factory)
    try:
        yield made
    finally:
        remove_small_bundle(made)


def _refused(bundle: SmallBundle, check: str, trusted: Any = None) -> BundleVerificationError:
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(bundle.path, trusted or bundle.key.public_key())
    assert info.value.check == check, str(info.value)
    return info.value


@pytest.mark.timeout(120)
def test_untouched_bundle_verifies(
    bundle: SmallBundle, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bundle", "verify", str(bundle.path), "--pubkey", str(bundle.public_key)]
    assert main(args) == 0
    out = capsys.readouterr().out
    for check in ("signature", "bundle sha256", "layout", "manifest sha256", "members", "images"):
        assert f"{check} ." in out
    assert "FAILED" not in out
    verified = verify_bundle(bundle.path, bundle.key.public_key())
    assert [image.id for image in verified.manifest.images] == [bundle.image_id]


@pytest.mark.timeout(300)
def test_fixed_single_byte_flips_are_refused_and_restored(bundle: SmallBundle) -> None:
    size = bundle.path.stat().st_size
    positions = {"first byte": 0, **inner_positions(bundle.path), "last byte": size - 1}
    for name, position in positions.items():
        with flipped(bundle.path, position):
            error = _refused(bundle, "bundle sha256")
            assert "differs from signed" in error.detail, name
    assert file_sha256(bundle.path) == bundle.sha256


@pytest.mark.timeout(300)
def test_random_single_byte_flips_are_refused_and_restored(bundle: SmallBundle) -> None:
    rng = random.Random(SEED)
    size = bundle.path.stat().st_size
    for position in rng.sample(range(size), RANDOM_FLIPS):
        with flipped(bundle.path, position, rng.randrange(1, 256)):
            _refused(bundle, "bundle sha256")
    assert file_sha256(bundle.path) == bundle.sha256


@pytest.mark.timeout(120)
def test_wrong_public_key_is_refused(bundle: SmallBundle, tmp_path: Any) -> None:
    _refused(bundle, "signature", signing.generate_key().public_key())
    other = signing.write_keypair(tmp_path)
    args = ["bundle", "verify", str(bundle.path), "--pubkey", str(other.public)]
    assert main(args) == 1


@pytest.mark.timeout(120)
@pytest.mark.parametrize("cut", [1, 1024, 1 << 20])
def test_truncated_bundle_is_refused(bundle: SmallBundle, cut: int) -> None:
    with truncated(bundle.path, cut):
        assert "bytes" in _refused(bundle, "bundle sha256").detail
    assert file_sha256(bundle.path) == bundle.sha256


@pytest.mark.timeout(300)
def test_resigned_manifest_with_wrong_member_hash_names_the_member(bundle: SmallBundle) -> None:
    target: dict[str, str] = {}

    def edit(manifest: dict[str, Any]) -> None:
        layer = max(
            (m for m in manifest["members"] if m["name"].endswith("layer.tar")),
            key=lambda m: m["size"],
        )
        layer["sha256"] = "f" * 64
        target["name"] = layer["name"]

    with resigned_manifest(bundle.path, bundle.key, edit):
        # the signature and the whole-file hash now pass: only the member check can catch it
        error = _refused(bundle, "members")
        assert error.detail.startswith(target["name"] + ": sha256")
    assert file_sha256(bundle.path) == bundle.sha256
    verify_bundle(bundle.path, bundle.key.public_key())
