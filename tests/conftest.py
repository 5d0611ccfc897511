"""Session-wide test settings.

testcontainers' reaper image cannot be pulled here, so cleanup is ours (try/finally in each test,
plus a sweep by label at the end of the session). These machines carry /.dockerenv, so on the host
testcontainers must be told to reach containers through 127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
if not os.environ.get("FINSIG_RUNNER_NETWORK"):  # on the host, not inside the runner
    os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
    os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")


@pytest.fixture(scope="session", autouse=True)
def _sweep_docker_leftovers(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    uses_docker = any(item.get_closest_marker("docker") for item in request.session.items)
    if not uses_docker:
        return
    from tests.support.containers import sweep

    left = sweep()
    if left:
        # A test that leaves something behind is a bug; the sweep keeps the machine clean anyway.
        print(f"\nsweep removed leftovers: {', '.join(left)}")
