"""Shared, expensive setup for the app's Docker tests: one PostgreSQL container per session."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from tests.support.postgres import PostgresServer, start_postgres
from tests.support.containers import inside_runner
from tests.support.containers import make_network


@pytest.fixture(scope="session", autouse=True)
def _finsig_logs_every_level() -> Iterator[None]:
    """Make every finsig log call build its record, as in production at INFO (a bad `extra=`
    raises only then)."""
    logger = logging.getLogger("finsig")
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.setLevel(previous)


@pytest.fixture(scope="session")
def app_network() -> Iterator[str]:
    """One project-made bridge network for the app's containers (the default bridge is not
    used); inside the runner, the run's own network."""
    if inside_runner():
        yield os.environ["FINSIG_RUNNER_NETWORK"]
        return
    network = make_network("finsig-test-app")
    try:
        yield str(network.name)
    finally:
        network.remove()


@pytest.fixture(scope="session")
def postgres(app_network: str) -> Iterator[PostgresServer]:
    server = start_postgres(app_network)
    try:
        yield server
    finally:
        server.container.stop()
