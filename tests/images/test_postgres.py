"""finsig/postgres: authenticated connections, refused wrong passwords, data kept on a volume."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import docker
import psycopg
import pytest
from testcontainers.community.postgres import PostgresContainer

from tests.support.containers import expose
from tests.support.images import logs_of, network, on_network, reach, running, unique
from tests.support.containers import LABELS, image_tag

pytestmark = pytest.mark.docker

USER, PASSWORD, DB = "finsig", "s3cret-Pw", "signals"


def postgres(net: Any, volume: str | None = None) -> PostgresContainer:
    """testcontainers' own PostgresContainer, unchanged, on our image and network."""
    container = PostgresContainer(image_tag("postgres"), username=USER, password=PASSWORD,
                                  dbname=DB, driver=None, labels=dict(LABELS),
                                  **on_network(net, unique("postgres")))
    expose(container, 5432)  # on 127.0.0.1, not 0.0.0.0 as its with_exposed_ports would
    if volume:
        container.with_volume_mapping(volume, "/var/lib/postgresql/data", "rw")
    return container


def dsn(container: PostgresContainer, password: str = PASSWORD) -> str:
    host, port = reach(container, 5432)
    return (f"host={host} port={port} user={USER} password={password} dbname={DB}"
            " connect_timeout=5")


@pytest.fixture
def volume() -> Iterator[str]:
    client = docker.from_env()
    made = client.volumes.create(f"finsig-test-pg-{uuid.uuid4().hex[:8]}", labels=dict(LABELS))
    try:
        yield str(made.name)
    finally:
        made.remove(force=True)


@pytest.mark.timeout(120)
def test_authenticated_connection_and_wrong_password() -> None:
    with network() as net, running(postgres(net)) as pg:
        with psycopg.connect(dsn(pg)) as conn:
            row = conn.execute("select current_user, current_database(), version()").fetchone()
            assert row is not None
            assert row[0] == USER and row[1] == DB
            assert "PostgreSQL 15" in row[2]
            method = conn.execute("show password_encryption").fetchone()
            assert method == ("scram-sha-256",)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(dsn(pg, password="wrong-password"))


@pytest.mark.timeout(180)
def test_row_survives_restart_on_named_volume(volume: str) -> None:
    with network() as net:
        with running(postgres(net, volume)) as first:
            with psycopg.connect(dsn(first)) as conn:
                conn.execute("create table kept (id int primary key, note text)")
                conn.execute("insert into kept values (1, 'survives')")
            # stop (SIGINT: clean shutdown) and remove the container; the volume stays
            first.get_wrapped_container().stop(timeout=20)
            assert "database system is shut down" in logs_of(first)
        with running(postgres(net, volume)) as second:
            assert "initialising" not in logs_of(second), "data directory initialised again"
            with psycopg.connect(dsn(second)) as conn:
                row = conn.execute("select note from kept where id = 1").fetchone()
                assert row == ("survives",)
