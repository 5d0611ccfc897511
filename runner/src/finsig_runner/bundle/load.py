"""`bundle import`: verify everything, then `docker load`, then compare the loaded image IDs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from finsig_runner.bundle import images as docker_images
from finsig_runner.bundle.errors import BundleVerificationError, EngineError
from finsig_runner.bundle.streams import iter_region
from finsig_runner.bundle.verify import CheckLine, Reporter, VerifiedBundle, verify_bundle


@dataclass(frozen=True)
class ImportResult:
    verified: VerifiedBundle
    loaded: tuple[str, ...]  # the engine's "Loaded image: ..." lines


def import_bundle(
    path: Path, trusted: Ed25519PublicKey, client: Any, report: Reporter = lambda _line: None
) -> ImportResult:
    """All of verify_bundle first (nothing is loaded if any check fails), then load and compare.

    images.tar is hashed again while it streams into the engine, so a file changed between the
    checks and the load is caught too (and the image IDs, which name the content, are compared).
    """
    verified = verify_bundle(path, trusted, report)
    layout, manifest = verified.layout, verified.manifest
    digest = hashlib.sha256()

    def chunks() -> Iterator[bytes]:
        try:
            with path.open("rb") as handle:
                for chunk in iter_region(handle, layout.images_offset, layout.images_size):
                    digest.update(chunk)
                    yield chunk
        except (OSError, EOFError) as exc:
            raise BundleVerificationError(
                "docker load", f"cannot read images.tar any more: {exc}"
            ) from exc

    try:
        loaded = docker_images.load_images(client, chunks())
    except (EngineError, BundleVerificationError) as exc:
        report(CheckLine("docker load", False, str(exc)))
        raise
    if digest.hexdigest() != manifest.images_tar.sha256:
        report(CheckLine("docker load", False, "images.tar changed while loading"))
        raise BundleVerificationError(
            "docker load", "images.tar changed between the checks and the load"
        )
    report(CheckLine("docker load", True, f"{len(loaded)} image(s)"))
    wrong = []
    for image in manifest.images:
        got = docker_images.image_id(client, image.ref)
        if got != image.id:
            wrong.append(f"{image.ref} is {got}, manifest {image.id}")
    if wrong:
        report(CheckLine("image ids", False, "; ".join(wrong)))
        raise BundleVerificationError("image ids", "; ".join(wrong))
    report(CheckLine("image ids", True, f"{len(manifest.images)} match the manifest"))
    return ImportResult(verified, tuple(loaded))
