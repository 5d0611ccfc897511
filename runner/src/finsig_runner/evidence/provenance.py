"""artifacts/provenance.intoto.jsonl: an in-toto Statement v1 with an SLSA provenance v1 predicate.

Subjects: the wheel, the sdist and the app image tar (sha256) when the run made them. Builder: the
runner image's ID, or a host marker when the runner ran on a host. Resolved dependencies: the lock
files (sha256) and the source commit. The run writes the bare Statement to
artifacts/provenance.intoto.json; `finsig-runner seal` writes its DSSE envelope (payload: exactly
those bytes) to artifacts/provenance.intoto.jsonl.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsig_runner.evidence.gitinfo import Source
from finsig_runner.core.model import FileDigest

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://finsig.example/finsig-runner/run/v1"
HOST_BUILDER = "urn:finsig:runner:host"
SIGNED_NAME = "artifacts/provenance.intoto.jsonl"
UNSIGNED_NAME = "artifacts/provenance.intoto.json"


def is_subject(path: str) -> bool:
    """Wheel, sdist and the app image tar, directly under an artifacts/ directory."""
    parts = path.split("/")
    if len(parts) < 2 or parts[-2] != "artifacts":
        return False
    name = parts[-1]
    return name.endswith(".whl") or name.endswith(".tar.gz") or name == "docker-image.tar"


def lock_files(root: Path, configured: Sequence[str]) -> list[Path]:
    """The configured locks plus every requirements/*.txt (the provenance's dependencies)."""
    paths = [Path(p) if Path(p).is_absolute() else root / p for p in configured]
    tier_dir = root / "requirements"
    if tier_dir.is_dir():
        paths += sorted(tier_dir.glob("*.txt"))
    seen: dict[Path, None] = {}
    for path in paths:
        if path.is_file() and path.resolve().is_relative_to(root.resolve()):
            seen.setdefault(path, None)
    return list(seen)


def builder_id(image_id: str | None) -> str:
    return f"urn:finsig:runner-image:{image_id}" if image_id else HOST_BUILDER


@dataclass(frozen=True)
class Invocation:
    run_id: str
    started: str
    ended: str
    runner_version: str
    image_id: str | None
    stages: tuple[str, ...]
    mode: str


def statement(
    files: Iterable[FileDigest], locks: Sequence[FileDigest], source: Source, run: Invocation
) -> dict[str, Any]:
    # a merge sees one wheel in several jobs (built in one, imported by the next): named once
    named = {(f.path.rsplit("/", 1)[1], f.sha256) for f in files if is_subject(f.path)}
    subjects = [{"name": name, "digest": {"sha256": digest}} for name, digest in sorted(named)]
    resolved: list[dict[str, Any]] = [
        {"uri": f"file:{lock.path}", "name": lock.path, "digest": {"sha256": lock.sha256}}
        for lock in locks
    ]
    if source.commit:
        resolved.insert(0, {"uri": "git+file:workspace", "digest": {"gitCommit": source.commit}})
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"stages": list(run.stages), "mode": run.mode},
                "internalParameters": {"runner_version": run.runner_version},
                "resolvedDependencies": resolved,
            },
            "runDetails": {
                "builder": {
                    "id": builder_id(run.image_id),
                    "version": {"finsig-runner": run.runner_version},
                },
                "metadata": {
                    "invocationId": run.run_id,
                    "startedOn": run.started,
                    "finishedOn": run.ended,
                },
            },
        },
    }


def encode(stmt: dict[str, Any]) -> bytes:
    """The Statement's one byte form (what is signed)."""
    return json.dumps(stmt, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
