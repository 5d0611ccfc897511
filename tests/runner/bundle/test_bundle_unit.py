"""The bundle's layout and checks on a small synthetic `docker save` archive: no Docker, no
subprocess. Every byte of the bundle is flipped once; every one is caught."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from finsig_runner.core import signing
from finsig_runner.bundle import BundleVerificationError, verify_bundle
from finsig_runner.bundle.export import write_bundle
from finsig_runner.bundle.manifest import ImageEntry, Manifest
from finsig_runner.cli.main import main
from finsig_runner.core.errors import ExitCode
from tests.support.bundle_tamper import (
    file_sha256,
    flipped,
    inner_positions,
    resigned_manifest,
    synthetic_save,
    truncated,
)

TAG = "finsig/synthetic:0.1.0"


@dataclass(frozen=True)
class Made:
    path: Path
    key: Ed25519PrivateKey
    pubkey: Path
    sha256: str
    image_id: str


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Made]:
    root = tmp_path_factory.mktemp("synthetic-bundle")
    files = signing.write_keypair(root / "keys")
    key = signing.load_private_key(files.private)
    archive, image_id = synthetic_save(TAG)
    entry = ImageEntry(TAG, "finsig/synthetic", "0.1.0", image_id, len(archive))
    chunks = (archive[i:i + 1000] for i in range(0, len(archive), 1000))
    result = write_bundle(root / "bundle.tar", key, [entry], chunks, {"appliance": "0.1.0"})
    yield Made(result.bundle, key, files.public, result.sha256, image_id)


def _refused(made: Made, check: str, key: Any = None) -> BundleVerificationError:
    trusted = (key or made.key).public_key()
    with pytest.raises(BundleVerificationError) as info:
        verify_bundle(made.path, trusted)
    assert info.value.check == check, str(info.value)
    assert info.value.exit_code == ExitCode.FINDINGS
    return info.value


def test_untouched_bundle_verifies(made: Made) -> None:
    lines: list[str] = []
    verified = verify_bundle(
        made.path, made.key.public_key(), lambda line: lines.append(line.render())
    )
    assert [line.split(" ")[0] for line in lines] == [
        "signature", "bundle", "layout", "manifest", "members", "images",
    ]
    assert all(" ok" in line for line in lines)
    assert verified.manifest.images[0].id == made.image_id
    assert {m.name for m in verified.manifest.members} >= {"manifest.json", "repositories"}


def test_layout_is_a_plain_tar_with_two_members(made: Made) -> None:
    import tarfile

    with tarfile.open(made.path) as outer:
        assert outer.getnames() == ["images.tar", "manifest.json"]
        manifest = outer.extractfile("manifest.json")
        assert manifest is not None
        parsed = Manifest.from_bytes(manifest.read())
    assert parsed.runner_version and parsed.created.endswith("Z")
    assert parsed.images_tar.name == "images.tar"


@pytest.mark.timeout(120)
def test_every_single_byte_flip_is_refused_and_restored(made: Made) -> None:
    size = made.path.stat().st_size
    for position in range(size):
        with flipped(made.path, position, 0x01):
            _refused(made, "bundle sha256")
    assert file_sha256(made.path) == made.sha256


def test_named_positions_are_refused(made: Made) -> None:
    positions = inner_positions(made.path)
    assert len(positions) == 6
    for _name, position in positions.items():
        with flipped(made.path, position):
            _refused(made, "bundle sha256")
    assert file_sha256(made.path) == made.sha256


def test_every_byte_of_the_envelope_is_guarded(made: Made) -> None:
    envelope = Path(f"{made.path}.dsse")
    for position in range(envelope.stat().st_size):
        with flipped(envelope, position, 0x01):
            _refused(made, "signature")


@pytest.mark.parametrize("cut", [1, 511, 512, 1024, 1536, 4096])
def test_truncated_is_refused(made: Made, cut: int) -> None:
    with truncated(made.path, cut):
        _refused(made, "bundle sha256")
    assert file_sha256(made.path) == made.sha256


def test_appended_bytes_are_refused(made: Made) -> None:
    size = made.path.stat().st_size
    try:
        with made.path.open("ab") as handle:
            handle.write(b"\0" * 512)
        _refused(made, "bundle sha256")
    finally:
        with made.path.open("r+b") as handle:
            handle.truncate(size)
    assert file_sha256(made.path) == made.sha256


def test_wrong_public_key_is_refused(made: Made) -> None:
    error = _refused(made, "signature", key=signing.generate_key())
    assert "unknown key" in error.detail


def test_missing_envelope_is_refused(made: Made) -> None:
    envelope = Path(f"{made.path}.dsse")
    saved = envelope.read_bytes()
    envelope.unlink()
    try:
        _refused(made, "signature")
    finally:
        envelope.write_bytes(saved)


def test_resigned_manifest_with_a_wrong_member_hash_names_the_member(made: Made) -> None:
    def edit(manifest: dict[str, Any]) -> None:
        layer = next(m for m in manifest["members"] if m["name"].endswith("layer.tar"))
        layer["sha256"] = "0" * 64

    with resigned_manifest(made.path, made.key, edit):
        error = _refused(made, "members")
        assert "layer.tar" in error.detail and "sha256" in error.detail
    assert file_sha256(made.path) == made.sha256
    verify_bundle(made.path, made.key.public_key())


@pytest.mark.parametrize(
    "edit, check, words",
    [
        (lambda m: m["members"].pop(), "members", "repositories: not in the manifest"),
        (lambda m: m["members"].append(dict(m["members"][-1], name="ghost")), "members",
         "ghost: listed in the manifest, missing"),
        (lambda m: m["members"][0].update(size=1), "members", "size"),
        (lambda m: m["members"].reverse(), "members", "order"),
        (lambda m: m["images"][0].update(id="sha256:" + "1" * 64), "images", TAG),
        (lambda m: m["images_tar"].update(size=1), "manifest sha256", "images.tar"),
        (lambda m: m.update(extra=1), "manifest sha256", "keys"),
    ],
)
def test_resigned_manifest_other_lies_are_refused(
    made: Made, edit: Any, check: str, words: str
) -> None:
    with resigned_manifest(made.path, made.key, edit):
        assert words in _refused(made, check).detail
    assert file_sha256(made.path) == made.sha256


def test_cli_verify_prints_one_line_per_check(
    made: Made, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", "verify", str(made.path), "--pubkey", str(made.pubkey)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("signature ....") and out[0].split()[2] == "ok"
    assert len(out) == 6


def test_cli_verify_by_pinned_fingerprint(made: Made, capsys: pytest.CaptureFixture[str]) -> None:
    fp = signing.fingerprint(made.key)
    assert main(["bundle", "verify", str(made.path), "--pubkey", fp]) == 0  # finds FILE.pub
    other = signing.fingerprint(signing.generate_key())
    assert main(["bundle", "verify", str(made.path), "--pubkey", other]) == 2
    assert "no public key with fingerprint" in capsys.readouterr().err


def test_cli_verify_tampered_exits_1_naming_the_check(
    made: Made, capsys: pytest.CaptureFixture[str]
) -> None:
    with flipped(made.path, 700):
        assert main(["bundle", "verify", str(made.path), "--pubkey", str(made.pubkey)]) == 1
    captured = capsys.readouterr()
    assert "bundle sha256 ....... FAILED" in captured.out
    assert "bundle sha256" in captured.err


def test_cli_verify_missing_file_exits_2(tmp_path: Path, made: Made) -> None:
    assert main(["bundle", "verify", str(tmp_path / "nope.tar"), "--pubkey", str(made.pubkey)]) == 2


class _Image:
    def __init__(self, *tags: str) -> None:
        self.tags = list(tags)


class _Images:
    def __init__(self, *images: _Image) -> None:
        self._images = images

    def list(self) -> list[_Image]:
        return list(self._images)


class _Client:
    def __init__(self, *images: _Image) -> None:
        self.images = _Images(*images)


def test_default_image_set_requires_the_base_and_the_runner_image() -> None:
    from finsig_runner.bundle import MissingImageError, default_image_refs

    everything = _Client(
        _Image("finsig/base:0.1.0", "finsig/base:latest", "finsig/base:0.1.0-inputs-1a2b3c4d5e6f"),
        _Image("finsig/postgres:0.1.0"), _Image("finsig-runner:0.1.0", "finsig-runner:latest"),
        _Image("finsig/app:0.0.9"), _Image("other/thing:0.1.0"),
        _Image("finsig/not-in-the-set:0.1.0"),  # the set is a list, not a pattern
    )
    assert default_image_refs(everything, "0.1.0") == [
        "finsig-runner:0.1.0", "finsig/base:0.1.0", "finsig/postgres:0.1.0"]
    for missing in ("finsig-runner:0.1.0", "finsig/base:0.1.0"):
        left = [_Image(t) for t in ("finsig/base:0.1.0", "finsig-runner:0.1.0") if t != missing]
        with pytest.raises(MissingImageError, match=f"required image\\(s\\) missing: {missing}"):
            default_image_refs(_Client(*left), "0.1.0")
