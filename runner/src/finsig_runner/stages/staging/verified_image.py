"""The app image staging starts, loaded only from verified bytes (docs/threat-model.md).

artifacts/docker-image.tar is loaded only when its sha256 is the one this run's event log
recorded for it (the image stage's output, or an output imported from verified `--from`
evidence), and only when the tags it carries are exactly the tag the image stage gave it — a
swapped tar can neither run other code in staging nor retag another image of the engine. No
project code runs while staging does (every stage's leftover processes are killed when it ends),
so nothing can swap the file between the check and `docker load`.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

from finsig_runner.core.errors import EvidenceError
from finsig_runner.core.hashing import sha256_file
from finsig_runner.evidence.reader import read_run

TAR = "artifacts/docker-image.tar"


def expected(workspace: Path) -> tuple[str, str]:
    """(sha256, tag) the run recorded for the image tar. Raises EvidenceError."""
    record = read_run(workspace)
    digests = [out.sha256 for out in record.outputs if out.path == TAR]
    image = record.stages.get("image")
    tag = image.summary.get("tag") if image is not None else None
    if not digests or not isinstance(tag, str):
        raise EvidenceError(f"{TAR}: this run recorded no image tar (or no tag) to load")
    return digests[-1], tag


def tags_in(tar: Path) -> list[str]:
    """The RepoTags a `docker save` archive would set, from its manifest.json."""
    with tarfile.open(tar) as archive:
        member = archive.extractfile("manifest.json")
        if member is None:
            raise EvidenceError(f"{tar.name}: no manifest.json")
        manifest = json.loads(member.read())
    return [str(t) for entry in manifest for t in (entry.get("RepoTags") or [])]


def load_verified(client: Any, workspace: Path) -> str:
    """`docker load` the tar after checking its hash and tags; the tag it set."""
    digest, tag = expected(workspace)
    tar = workspace / TAR
    actual = sha256_file(tar)
    if actual != digest:
        raise EvidenceError(f"{TAR}: sha256 {actual} is not the {digest} the image stage "
                            "recorded: refused to load it")
    carried = tags_in(tar)
    if carried != [tag]:
        raise EvidenceError(f"{TAR}: carries the tags {carried}, not only {tag}: refused")
    with tar.open("rb") as handle:
        client.images.load(handle)
    return tag
