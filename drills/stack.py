"""The drill's containers: a labelled network, PostgreSQL on a labelled volume, and the app.

Ports are published on 127.0.0.1 only; everything carries the run's labels, and `remove()` takes
away whatever has them (the caller runs it in a `finally`: also after a failure or Ctrl-C).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import docker
import psycopg
import requests

USER = "finsig"
# A throwaway database that lives as long as the drill.
PASSWORD = "finsig-drill"  # nosec B105
DATABASE = "finsig"
PGDATA = "/var/lib/postgresql/data"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(what: str, probe: Callable[[], bool], timeout: float) -> float:
    """Poll `probe` until it is true; returns the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if probe():
                return time.monotonic() - started
        except (OSError, psycopg.Error, requests.RequestException):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} not reached within {timeout:.0f}s")


@dataclass
class Stack:
    postgres_image: str
    app_image: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    # Fixed, so that the restarted container keeps its address.
    pg_port: int = field(default_factory=free_port)
    app_port: int = 0
    client: Any = field(default_factory=docker.from_env)
    network: Any = None
    volume: Any = None

    @property
    def labels(self) -> dict[str, str]:
        return {"finsig.drill": self.run_id, "finsig.owner": "drills"}

    @property
    def name(self) -> str:
        return f"finsig-drill-{self.run_id}"

    @property
    def database_url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.pg_port}/{DATABASE}"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    def start(self) -> None:
        self.network = self.client.networks.create(self.name, driver="bridge", labels=self.labels)
        self.volume = self.client.volumes.create(f"{self.name}-pgdata", labels=self.labels)
        self.postgres = self._run(
            self.postgres_image,
            "pg",
            environment={
                "POSTGRES_USER": USER,
                "POSTGRES_PASSWORD": PASSWORD,
                "POSTGRES_DB": DATABASE,
            },
            volumes={self.volume.name: {"bind": PGDATA, "mode": "rw"}},
            ports={"5432/tcp": ("127.0.0.1", self.pg_port)},
        )
        self.wait_postgres(90)
        in_network = f"postgresql://{USER}:{PASSWORD}@{self.name}-pg:5432/{DATABASE}"
        self.app = self._run(
            self.app_image,
            "app",
            environment={"FINSIG_DATABASE_URL": in_network},
            ports={"8000/tcp": ("127.0.0.1", None)},
        )
        self.app.reload()
        self.app_port = int(self.app.attrs["NetworkSettings"]["Ports"]["8000/tcp"][0]["HostPort"])
        wait_for("the app's /readyz 200", self.app_ready, 90)

    def _run(self, image: str, role: str, **kwargs: Any) -> Any:
        container = self.client.containers.create(
            image, name=f"{self.name}-{role}", labels=self.labels, network=self.network.name,
            **kwargs,
        )
        container.start()
        return container

    def app_ready(self) -> bool:
        return requests.get(f"{self.app_url}/readyz", timeout=3).status_code == 200

    def postgres_accepts(self) -> bool:
        with psycopg.connect(self.database_url, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True

    def wait_postgres(self, timeout: float) -> float:
        return wait_for("postgres to accept connections", self.postgres_accepts, timeout)

    def kill_postgres(self) -> None:
        self.postgres.kill()  # SIGKILL: no shutdown checkpoint, crash recovery on the next start

    def start_postgres(self) -> None:
        self.postgres.start()  # the same container on the same volume: the data survives

    def app_log(self) -> list[str]:
        return str(self.app.logs().decode(errors="replace")).splitlines()

    def labelled(self) -> list[tuple[str, Any]]:
        """Everything that carries this run's label, in removal order (containers first)."""
        selector = {"label": f"finsig.drill={self.run_id}"}
        return (
            [("container", c) for c in self.client.containers.list(all=True, filters=selector)]
            + [("network", n) for n in self.client.networks.list(filters=selector)]
            + [("volume", v) for v in self.client.volumes.list(filters=selector)]
        )

    def remove(self) -> None:
        """Remove all that is labelled, also what an interrupted create made but never returned."""
        for kind, made in self.labelled():
            try:
                made.remove(**({"force": True, "v": True} if kind == "container" else {}))
            except docker.errors.NotFound:
                pass

    def leftovers(self) -> list[str]:
        return [f"{kind} {made.name}" for kind, made in self.labelled()]
