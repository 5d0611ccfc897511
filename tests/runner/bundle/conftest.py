"""Fixtures for the bundle's Docker tests: the small bundle (finsig/base alone) and a second,
empty Docker engine standing in for the isolated site."""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from finsig_runner import __version__
from finsig_runner.core import signing
from finsig_runner.bundle import export_bundle
from finsig_runner.bundle.images import client_from_env

BASE_IMAGE = f"finsig/base:{__version__}"


@dataclass(frozen=True)
class SmallBundle:
    path: Path
    key: Ed25519PrivateKey
    private_key: Path
    public_key: Path
    sha256: str
    size: int
    image_id: str
    export_seconds: float


def make_small_bundle(tmp_path_factory: pytest.TempPathFactory) -> SmallBundle:
    """Export finsig/base:<version> alone with a fresh key pair (the caller's module owns it)."""
    client = client_from_env()
    try:
        try:
            image = client.images.get(BASE_IMAGE)
        except Exception:  # noqa: BLE001 (docker.errors.ImageNotFound or the engine failing)
            pytest.fail(f"{BASE_IMAGE} is missing: build it first (make base)")
        root = tmp_path_factory.mktemp("small-bundle")
        files = signing.write_keypair(root / "keys")
        key = signing.load_private_key(files.private)
        result = export_bundle(root / "finsig-bundle.tar", key, client, refs=[BASE_IMAGE])
        return SmallBundle(
            result.bundle, key, files.private, files.public, result.sha256, result.size,
            str(image.id), result.seconds,
        )
    finally:
        client.close()


def remove_small_bundle(bundle: SmallBundle) -> None:
    """Delete the bundle, its envelope, its public key copy and the key pair."""
    shutil.rmtree(bundle.path.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def second_engine() -> Iterator[Any]:
    """An empty second dockerd (own data/exec roots, pidfile, socket and network namespace; no
    iptables); stopped and its directory deleted when the session ends."""
    if os.geteuid() != 0:
        pytest.fail("a second dockerd needs root: run the suite as root (make test)")
    from tests.support.second_engine import start_second_engine

    engine = start_second_engine(wait=60.0)
    try:
        yield engine
    finally:
        engine.stop(wait=30.0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Attach the second engine's log to the report of any test using it that fails."""
    outcome = yield
    report = outcome.get_result()
    engine = getattr(item, "funcargs", {}).get("second_engine")
    if report.failed and engine is not None:
        report.sections.append(("second dockerd log (tail)", engine.log_tail()))
