"""scripts/build-base.sh twice, each in a fresh directory with an empty apt cache.

Same rootfs bytes, same config digest, same image ID.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
from pathlib import Path

import docker
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Host-only: it runs mmdebstrap against the machine's apt sources (root, network to the Debian
# archive), which the runner image neither carries nor may reach; `make test` runs it on the host.
pytestmark = [pytest.mark.docker, pytest.mark.pipeline]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.timeout(900)
def test_base_image_is_reproducible(tmp_path: Path) -> None:
    client = docker.from_env()
    run = uuid.uuid4().hex[:8]
    tags = [f"finsig-test/base-repro:{run}-{n}" for n in (1, 2)]
    outs = [tmp_path / f"build-{n}" for n in (1, 2)]
    try:
        # Two independent builds side by side (2 cores: mostly download and dpkg time), each
        # with its own work directory, hence its own empty apt cache and lists.
        procs = [
            subprocess.Popen(  # noqa: S603 - our own script, fixed arguments
                [str(ROOT / "scripts" / "build-base.sh"), "--force", "--keep-tar",
                 "--tag", tag, "--out", str(out)],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for tag, out in zip(tags, outs)
        ]
        logs = [proc.communicate(timeout=840)[0] for proc in procs]
        for proc, log in zip(procs, logs):
            assert proc.returncode == 0, log[-4000:]

        infos = [json.loads((out / "build-info.json").read_text()) for out in outs]
        rootfs = [sha256(out / "rootfs.tar") for out in outs]
        images = [client.images.get(tag) for tag in tags]
        ids = [image.id for image in images]

        assert rootfs[0] == rootfs[1], "rootfs tars differ"
        assert [info["rootfs_sha256"] for info in infos] == rootfs
        assert infos[0]["config_digest"] == infos[1]["config_digest"]
        assert ids[0] == ids[1] == infos[0]["config_digest"]
        # what Docker made of it: created = SOURCE_DATE_EPOCH, the rootfs tar as the one layer
        assert images[0].attrs["Created"] == infos[0]["created"]
        assert images[0].attrs["RootFS"]["Layers"] == [f"sha256:{rootfs[0]}"]
        for out in outs:
            assert not list((out / "tmp").glob("*")), "mmdebstrap's temp directory was left behind"
    finally:
        # Untag only (the same ID may also be the real finsig/base): each tag and the input record
        # the script put beside it.
        for image in client.images.list(name="finsig-test/base-repro"):
            for tag in image.tags:
                if tag.split(":")[1].startswith(run):
                    client.images.remove(tag, noprune=False)
