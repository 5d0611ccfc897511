"""A finsig/postgres container whose address survives a restart: a fixed 127.0.0.1 port on the
host, its name on the runner's network inside the runner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from tests.support.app import free_port, loopback_container, service_address, wait_until
from tests.support.containers import image_tag

USER = "finsig"
PASSWORD = "finsig-test"  # noqa: S105 - a throwaway test database
DATABASE = "finsig"
START_TIMEOUT = 90.0


def container_exited(container: Any) -> str | None:
    wrapped = container.get_wrapped_container()
    wrapped.reload()
    if wrapped.status in ("exited", "dead"):
        logs = wrapped.logs(tail=20).decode(errors="replace")
        return f"container {wrapped.name} {wrapped.status}: {logs}"
    return None


@dataclass
class PostgresServer:
    container: Any
    name: str
    host_port: int

    def url(self, database: str = DATABASE) -> str:
        host, port = service_address(self.name, 5432, self.host_port)
        return f"postgresql://{USER}:{PASSWORD}@{host}:{port}/{database}"

    def connect(self, database: str = DATABASE) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(database), connect_timeout=3, autocommit=True)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        def accepts() -> bool:
            with self.connect() as conn:
                conn.execute("SELECT 1")
            return True

        wait_until("postgres to accept connections", accepts, timeout,
                   abort=lambda: container_exited(self.container))

    def fresh_database(self) -> str:
        """A new empty database in this server; returns its URL."""
        name = f"t_{uuid.uuid4().hex[:10]}"
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        self.container.get_wrapped_container().stop(timeout=10)

    def start_again(self) -> None:
        self.container.get_wrapped_container().start()


def postgres_name() -> str:
    return f"finsig-test-pg-{uuid.uuid4().hex[:8]}"


def postgres_container(network: str, name: str, host_port: int | None = None) -> Any:
    """finsig/postgres on a project-made network (the default bridge is never used)."""
    ports: dict[int, int | None] = {} if host_port is None else {5432: host_port}
    return (
        loopback_container(image_tag("postgres"), ports, name)
        .with_env("POSTGRES_USER", USER)
        .with_env("POSTGRES_PASSWORD", PASSWORD)
        .with_env("POSTGRES_DB", DATABASE)
        .with_kwargs(network=network)
    )


def start_postgres(network: str) -> PostgresServer:
    port, name = free_port(), postgres_name()
    container = postgres_container(network, name, port)
    container.start()
    server = PostgresServer(container, name, port)
    try:
        server.wait_ready()
    except BaseException:
        container.stop()
        raise
    return server
