"""The normaliser, the OCI layout and the diff against a real engine and Debian's skopeo.

One recipe (FROM finsig/base, a COPY, a RUN that writes files, compiles pycs with
SOURCE_DATE_EPOCH set, removes a base file and replaces a base directory) is built twice with
--no-cache, saved and normalised: the raw saves differ (the control), the normalised archives are
byte-identical and load as one image ID, whose whiteouts, hardlink and pycs still work. A second
recipe plants a build timestamp: its two normalised builds differ and the diff names the layer
and /built-at. The layout written from the normalised archive is read by skopeo, whose digests
must be ours. Every tag is unique to the session and removed at the end, also on failure.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess  # nosec B404 - docker-free tools: skopeo and git, fixed arguments
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from finsig_runner.core.hashing import sha256_file
from finsig_runner.oci.diff import diff_images
from finsig_runner.oci.layout import write_layout
from finsig_runner.oci.layout_read import verify_layout
from finsig_runner.oci.normalise import NormaliseOptions, NormaliseResult, normalise
from finsig_runner.oci.source import open_image
from tests.support.containers import LABELS, image_tag

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
RUN = uuid.uuid4().hex[:10]
REPOSITORY = "finsig-test/oci-repro"

RECIPE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG SOURCE_DATE_EPOCH
COPY demo/ /opt/demo/
RUN set -eu; python3 -m compileall -q /opt/demo; \\
    mkdir /opt/demo/data; echo hello > /opt/demo/data/zz-greeting; \\
    ln /opt/demo/data/zz-greeting /opt/demo/data/a-link; \\
    rm /etc/debian_version; \\
    rm -rf /etc/apt/apt.conf.d; mkdir /etc/apt/apt.conf.d; echo '# ours' > /etc/apt/apt.conf.d/only
"""
PLANTED = RECIPE + """\
RUN date '+%Y-%m-%dT%H:%M:%S.%N' > /built-at
RUN echo 'X = 1' > /opt/late.py && env -u SOURCE_DATE_EPOCH python3 -m compileall -q /opt/late.py
"""
# What the loaded image must show: the whiteout, the opaque directory, the hardlink, the pyc kind.
PROBE = """\
set -eu
test ! -e /etc/debian_version
test "$(ls /etc/apt/apt.conf.d)" = only
test "$(stat -c %i /opt/demo/data/a-link)" = "$(stat -c %i /opt/demo/data/zz-greeting)"
python3 - <<'PY'
import sys
sys.path.insert(0, "/opt/demo")
import hello
flags = open("/opt/demo/__pycache__/hello.cpython-311.pyc", "rb").read()[4:8]
assert flags == b"\\x03\\x00\\x00\\x00", flags
print(hello.GREETING)
PY
"""


@dataclass(frozen=True)
class Build:
    raw_sha256: str
    raw_id: str
    result: NormaliseResult


@dataclass(frozen=True)
class Builds:
    epoch: int
    plain: tuple[Build, Build]
    planted: tuple[Build, Build]


@dataclass(frozen=True)
class Recipe:
    """Where and how to build: the context, SOURCE_DATE_EPOCH, the base's layers (kept as they
    are), the work directory, and the list of every tag made (removed by the fixture)."""

    context: Path
    epoch: int
    base_layers: frozenset[str]
    work: Path
    tags: list[str]


def commit_epoch() -> int:
    done = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%ct"],  # noqa: S603,S607
                          capture_output=True, text=True, timeout=30, check=True)
    return int(done.stdout.strip())


def build_and_save(client: Any, recipe: Recipe, dockerfile: str, name: str) -> Build:
    """Build with no cache, save, normalise (the base's layers kept), delete the raw save."""
    tag = f"{REPOSITORY}:{RUN}-{name}"
    recipe.tags.append(tag)
    image, _ = client.images.build(
        path=str(recipe.context), dockerfile=dockerfile, tag=tag, nocache=True, rm=True,
        forcerm=True, network_mode="none", pull=False, labels=dict(LABELS), timeout=300,
        buildargs={"BASE_IMAGE": image_tag("base"), "SOURCE_DATE_EPOCH": str(recipe.epoch)})
    raw = recipe.work / f"{name}.raw.tar"
    with raw.open("wb") as handle:
        for chunk in client.api.get_image(tag):
            handle.write(chunk)
    options = NormaliseOptions(recipe.epoch, tags=(f"{REPOSITORY}:{RUN}-normalised",),
                               keep=recipe.base_layers)
    result = normalise(raw, recipe.work / f"{name}.tar", options)
    raw_sha = sha256_file(raw)
    raw.unlink()
    return Build(raw_sha, str(image.id), result)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    client = docker.from_env(timeout=300)
    work = tmp_path_factory.mktemp("oci-docker")
    context = work / "context"
    (context / "demo").mkdir(parents=True)
    (context / "demo" / "hello.py").write_text('GREETING = "hello from a reproducible layer"\n')
    (context / "Dockerfile").write_text(RECIPE)
    (context / "Dockerfile.planted").write_text(PLANTED)
    base = client.images.get(image_tag("base"))
    recipe = Recipe(context, commit_epoch(), frozenset(base.attrs["RootFS"]["Layers"]), work, [])
    try:
        plain = (build_and_save(client, recipe, "Dockerfile", "a1"),
                 build_and_save(client, recipe, "Dockerfile", "a2"))
        planted = (build_and_save(client, recipe, "Dockerfile.planted", "p1"),
                   build_and_save(client, recipe, "Dockerfile.planted", "p2"))
        yield Builds(recipe.epoch, plain, planted)
    finally:
        for tag in [*recipe.tags, f"{REPOSITORY}:{RUN}-normalised", f"{REPOSITORY}:{RUN}-skopeo"]:
            try:
                client.images.remove(tag)
            except docker.errors.ImageNotFound:
                pass
        client.close()
        shutil.rmtree(work, ignore_errors=True)


def explain(first: Path, second: Path) -> str:
    with open_image(first) as a, open_image(second) as b:
        return diff_images(a, b).describe()


def load(client: Any, archive: Path) -> str:
    with archive.open("rb") as handle:
        [image] = client.images.load(handle)
    return str(image.id)


@pytest.mark.timeout(600)
def test_same_recipe_gives_byte_identical_archives_and_one_image_id(builds: Builds) -> None:
    first, second = builds.plain
    assert first.raw_sha256 != second.raw_sha256, "control: the raw saves should differ"
    assert first.raw_id != second.raw_id, "control: the raw builds should differ"
    assert first.result.path.read_bytes() == second.result.path.read_bytes(), \
        explain(first.result.path, second.result.path)
    assert first.result.kept == (0,) and first.result.timestamp_pycs == ()
    client = docker.from_env(timeout=300)
    try:
        ids = [load(client, build.result.path) for build in builds.plain]
        assert ids == [first.result.image_id] * 2
        out = client.containers.run(
            f"{REPOSITORY}:{RUN}-normalised", ["sh", "-c", PROBE], remove=True,
            network_mode="none", labels=dict(LABELS), user="0")
        assert b"hello from a reproducible layer" in out
    finally:
        client.close()


@pytest.mark.timeout(600)
def test_planted_build_timestamp_is_named(builds: Builds) -> None:
    first, second = builds.planted
    assert first.result.image_id != second.result.image_id
    with open_image(first.result.path) as a, open_image(second.result.path) as b:
        diff = diff_images(a, b)
    assert diff.differing_layers == (3, 4), diff.describe()
    assert diff.first_layer is not None
    assert [(f.path, f.differs) for f in diff.first_layer.files] == [("/built-at", ("content",))]
    assert "/built-at (content)" in diff.describe()
    # the step that compiled without SOURCE_DATE_EPOCH is named by the normaliser
    assert [p.path for p in first.result.timestamp_pycs] == [
        "/opt/__pycache__/late.cpython-311.pyc"]


def skopeo(*args: str) -> str:
    if shutil.which("skopeo") is None:
        pytest.fail("skopeo is missing: run `make deps` (scripts/deps.sh installs it)")
    done = subprocess.run(["skopeo", *args], capture_output=True, text=True,  # noqa: S603,S607
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture()
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A work directory removed when the test ends (its layouts and copies are image-sized)."""
    work = tmp_path / "work"
    work.mkdir()
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.timeout(600)
def test_layout_digests_agree_with_skopeo(builds: Builds, scratch: Path) -> None:
    tmp_path = scratch
    normalised = builds.plain[0].result
    ref = f"{REPOSITORY}:{RUN}"
    ours = write_layout(normalised.path, tmp_path / "layout", ref)
    assert verify_layout(tmp_path / "layout").images[0].manifest == ours.manifest
    source = f"oci:{tmp_path / 'layout'}:{ref}"
    inspected = json.loads(skopeo("inspect", source))
    assert inspected["Digest"] == ours.manifest.digest
    assert inspected["Layers"] == list(normalised.diff_ids)
    raw_manifest = skopeo("inspect", "--raw", source).encode()
    assert "sha256:" + hashlib.sha256(raw_manifest).hexdigest() == ours.manifest.digest
    config = skopeo("inspect", "--config", "--raw", source).encode()
    assert "sha256:" + hashlib.sha256(config).hexdigest() == normalised.image_id
    # a copy that keeps digests (what the registry push will do) keeps the manifest digest
    skopeo("copy", "--quiet", "--preserve-digests", source, f"oci:{tmp_path / 'copy'}:{ref}")
    assert json.loads(skopeo("inspect", f"oci:{tmp_path / 'copy'}:{ref}"))["Digest"] == \
        ours.manifest.digest
    # skopeo's docker-archive of our layout loads as the same image ID
    skopeo("copy", "--quiet", source,
           f"docker-archive:{tmp_path / 'sk.tar'}:{REPOSITORY}:{RUN}-skopeo")
    client = docker.from_env(timeout=300)
    try:
        assert load(client, tmp_path / "sk.tar") == normalised.image_id
    finally:
        client.close()
    # and our reader takes skopeo's own layout (gzip layers, its config) and verifies it
    skopeo("copy", "--quiet", f"docker-archive:{normalised.path}",
           f"oci:{tmp_path / 'theirs'}:{ref}")
    theirs = verify_layout(tmp_path / "theirs").images[0]
    assert theirs.diff_ids == normalised.diff_ids
    assert {layer.media_type for layer in theirs.layers} == {
        "application/vnd.oci.image.layer.v1.tar+gzip"}
