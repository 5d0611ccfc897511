"""A finsig/postgres container on a fixed 127.0.0.1 port, so its address survives a restart."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from tests.app.support import free_port, loopback_container, wait_until
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
    port: int

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

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


def postgres_container(network: str, host_port: int | None = None) -> Any:
    """finsig/postgres on a project-made network (the default bridge is never used)."""
    ports: dict[int, int | None] = {} if host_port is None else {5432: host_port}
    return (
        loopback_container(image_tag("postgres"), ports)
        .with_env("POSTGRES_USER", USER)
        .with_env("POSTGRES_PASSWORD", PASSWORD)
        .with_env("POSTGRES_DB", DATABASE)
        .with_kwargs(network=network)
    )


def start_postgres(network: str) -> PostgresServer:
    port = free_port()
    container = postgres_container(network, port)
    container.start()
    server = PostgresServer(container, port)
    try:
        server.wait_ready()
    except BaseException:
        container.stop()
        raise
    return server
