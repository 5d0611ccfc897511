"""bundle import's own logic against a fake engine (no Docker): nothing reaches the engine when a
check fails; the bytes loaded are exactly images.tar; a changed file during the load and a wrong
loaded image ID are refused by name."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker.errors
import pytest

from finsig_runner.core import signing
from finsig_runner.bundle import BundleVerificationError, import_bundle
from finsig_runner.bundle.export import write_bundle
from finsig_runner.bundle.manifest import ImageEntry
from tests.support.bundle_tamper import flipped, layout_of, synthetic_save

TAG = "finsig/synthetic:0.1.0"


@dataclass
class FakeImage:
    id: str


@dataclass
class FakeEngine:
    """Just enough of docker.DockerClient for import_bundle."""

    loaded_id: str
    before_load: Callable[[], None] = lambda: None
    received: bytearray = field(default_factory=bytearray)
    tags: dict[str, str] = field(default_factory=dict)
    load_calls: int = 0

    @property
    def api(self) -> FakeEngine:
        return self

    @property
    def images(self) -> FakeEngine:
        return self

    def load_image(self, data: Iterable[bytes]) -> Iterator[dict[str, str]]:
        self.load_calls += 1
        self.before_load()
        for chunk in data:
            self.received += chunk
        self.tags[TAG] = self.loaded_id
        yield {"stream": f"Loaded image: {TAG}\n"}

    def get(self, ref: str) -> FakeImage:
        if ref not in self.tags:
            raise docker.errors.ImageNotFound(ref)
        return FakeImage(self.tags[ref])


@dataclass(frozen=True)
class Made:
    path: Path
    key: signing.PrivateKey
    image_id: str
    archive: bytes


@pytest.fixture()
def made(tmp_path: Path) -> Made:
    key = signing.generate_key()
    archive, image_id = synthetic_save(TAG)
    entry = ImageEntry(TAG, "finsig/synthetic", "0.1.0", image_id, len(archive))
    write_bundle(tmp_path / "b.tar", key, [entry], [archive], {"appliance": "0.1.0"})
    return Made(tmp_path / "b.tar", key, image_id, archive)


def test_import_loads_exactly_images_tar_and_checks_ids(made: Made) -> None:
    engine = FakeEngine(loaded_id=made.image_id)
    lines: list[str] = []
    result = import_bundle(made.path, made.key.public_key(), engine, lambda c: lines.append(c.name))
    assert bytes(engine.received) == made.archive
    assert result.loaded == (f"Loaded image: {TAG}",)
    assert lines[-2:] == ["docker load", "image ids"]


def test_failed_check_never_reaches_the_engine(made: Made) -> None:
    engine = FakeEngine(loaded_id=made.image_id)
    with flipped(made.path, layout_of(made.path).images_offset + 600):
        with pytest.raises(BundleVerificationError, match="bundle sha256"):
            import_bundle(made.path, made.key.public_key(), engine)
    with pytest.raises(BundleVerificationError, match="signature"):
        import_bundle(made.path, signing.generate_key().public_key(), engine)
    assert engine.load_calls == 0


def test_file_changed_during_the_load_is_refused(made: Made) -> None:
    position = layout_of(made.path).images_offset + 700

    def tamper() -> None:  # after every check passed, before the engine reads the bytes
        with made.path.open("r+b") as handle:
            handle.seek(position)
            byte = handle.read(1)
            handle.seek(position)
            handle.write(bytes([byte[0] ^ 0xFF]))

    engine = FakeEngine(loaded_id=made.image_id, before_load=tamper)
    with pytest.raises(BundleVerificationError) as info:
        import_bundle(made.path, made.key.public_key(), engine)
    assert info.value.check == "docker load"


def test_wrong_loaded_image_id_is_refused_by_name(made: Made) -> None:
    engine = FakeEngine(loaded_id="sha256:" + "e" * 64)
    with pytest.raises(BundleVerificationError) as info:
        import_bundle(made.path, made.key.public_key(), engine)
    assert info.value.check == "image ids"
    assert TAG in info.value.detail and made.image_id in info.value.detail


def test_engine_error_during_load_is_a_tool_error(made: Made) -> None:
    class Broken(FakeEngine):
        def load_image(self, data: Iterable[bytes]) -> Iterator[dict[str, str]]:
            yield {"error": "no space left on device"}

    from finsig_runner.bundle import EngineError
    from finsig_runner.core.errors import ExitCode

    with pytest.raises(EngineError, match="no space left") as info:
        import_bundle(made.path, made.key.public_key(), Broken(loaded_id=made.image_id))
    assert info.value.exit_code == ExitCode.TOOL_ERROR
