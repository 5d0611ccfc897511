"""scripts/lib/images.sh against the real engine, on throwaway images FROM the base: the input key
is recorded beside the image (a second tag), a build is skipped only when that record and the tag
name one image, and a rebuild cleans up without removing an image another tag still uses."""

from __future__ import annotations

import io
import subprocess  # nosec B404 - the shell library under test
import tarfile
import uuid
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from tests.support.ci_files import ROOT
from tests.support.containers import LABELS, image_tag

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]

KEYS = ("1" * 64, "2" * 64, "3" * 64)


def lib(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # nosec B603 B607 - bash with a fixed script
        ["bash", "-c", ". scripts/lib/source.sh && . scripts/lib/images.sh && \"$@\"", "-",
         *argv], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def current(ref: str, key: str) -> bool:
    return lib("image_is_current", ref, key).returncode == 0


def record(ref: str, key: str, previous: str = "") -> None:
    done = lib("image_record", ref, key, previous)
    assert done.returncode == 0, done.stderr


@pytest.fixture()
def repo() -> Iterator[tuple[Any, str]]:
    """A throwaway repository name; every image tagged in it is removed afterwards."""
    client = docker.from_env()
    name = f"finsig-test/record-{uuid.uuid4().hex[:8]}"
    try:
        yield client, name
    finally:
        for image in client.images.list(name=name):
            for tag in image.tags:
                client.images.remove(tag, force=True)
        client.close()


def build(client: Any, tag: str, generation: int) -> str:
    """An image with no layer of its own (a label only): instant, and a new ID per generation."""
    dockerfile = f"FROM {image_tag('base')}\nLABEL finsig.test-generation={generation}\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
    context.seek(0)
    image, _ = client.images.build(fileobj=context, custom_context=True, tag=tag,
                                   labels=dict(LABELS), network_mode="none", pull=False, rm=True)
    return str(image.id)


def test_a_record_makes_a_skip_and_a_rebuild_replaces_it(repo: tuple[Any, str]) -> None:
    client, name = repo
    ref = f"{name}:1.0"
    first = build(client, ref, 1)
    assert not current(ref, KEYS[0])  # no record yet
    record(ref, KEYS[0])
    assert client.images.get(f"{ref}-inputs-{KEYS[0][:12]}").id == first
    assert current(ref, KEYS[0]) and not current(ref, KEYS[1])

    second = build(client, ref, 2)  # the tag moved: the old record no longer makes a skip
    assert not current(ref, KEYS[0])
    record(ref, KEYS[1], first)
    assert current(ref, KEYS[1])
    assert sorted(client.images.get(ref).tags) == sorted([ref, f"{ref}-inputs-{KEYS[1][:12]}"])
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(first)  # replaced, untagged, nothing used it: gone
    assert second != first


def test_an_image_another_tag_uses_stays(repo: tuple[Any, str]) -> None:
    client, name = repo
    ref, keep = f"{name}:1.0", f"{name}:keep"
    first = build(client, ref, 1)
    record(ref, KEYS[0])
    client.images.get(ref).tag(keep)
    build(client, ref, 3)
    record(ref, KEYS[2], first)
    assert client.images.get(keep).id == first  # still there, under its other tag
    assert client.images.get(keep).tags == [keep]  # but no longer the record of `ref`
    assert current(ref, KEYS[2]) and not current(ref, KEYS[0])
