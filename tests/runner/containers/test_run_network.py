"""finsig_runner.containers.run_network without Docker: where the runner thinks it runs, the network
dance
against a fake engine, and the route table reader. (No docker marker: these need no engine.)"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from finsig_runner.containers import run_network as cm
from finsig_runner.containers.reach import NETWORK_ENV

CID = "a" * 64


class FakeNetwork:
    def __init__(self, engine: FakeEngine, name: str, internal: bool = False) -> None:
        self.engine, self.name, self.internal = engine, name, internal
        self.attrs: dict[str, Any] = {"Containers": {}}

    def connect(self, cid: str, aliases: list[str] | None = None) -> None:
        self.engine.on[cid].append(self.name)

    def disconnect(self, cid: str, force: bool = False) -> None:
        self.engine.on[cid].remove(self.name)


class FakeContainer:
    def __init__(self, engine: FakeEngine, cid: str) -> None:
        self.id, self.engine = cid, engine

    @property
    def attrs(self) -> dict[str, Any]:
        return {"Image": "sha256:img", "HostConfig": {"NetworkMode": "bridge"},
                "NetworkSettings": {"Networks": {n: {} for n in self.engine.on[self.id]}}}


class FakeEngine:
    """Just enough of docker.DockerClient: containers.get/run/list, networks.create/get/list."""

    def __init__(self) -> None:
        self.on: dict[str, list[str]] = {CID: ["bridge"]}
        self.nets: dict[str, FakeNetwork] = {"bridge": FakeNetwork(self, "bridge")}
        self.helpers: list[str] = []
        self.containers = self
        self.networks = _Networks(self)
        self.volumes = _Empty()
        self.images = _Empty()

    def get(self, cid: str) -> FakeContainer:
        if cid not in self.on:
            raise docker.errors.NotFound("no such container")
        return FakeContainer(self, cid)

    def run(self, image: str, command: list[str], **kwargs: Any) -> bytes:
        self.helpers.append(kwargs["network_mode"])
        return b""

    def list(self, **kwargs: Any) -> list[Any]:
        return []


class _Networks:
    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine

    def create(self, name: str, internal: bool = False, **kwargs: Any) -> FakeNetwork:
        self.engine.nets[name] = FakeNetwork(self.engine, name, internal)
        return self.engine.nets[name]

    def get(self, name: str) -> FakeNetwork:
        if name not in self.engine.nets:
            raise docker.errors.NotFound("no such network")
        return self.engine.nets[name]

    def list(self, **kwargs: Any) -> list[Any]:
        return []


class _Empty:
    def list(self, **kwargs: Any) -> list[Any]:
        return []


def test_own_container_id_from_mountinfo(tmp_path: Path) -> None:
    (tmp_path / "mountinfo").write_text(
        f"1 2 0:1 /var/lib/docker/containers/{CID}/hostname /etc/hostname rw - ext4 rw\n")
    assert cm.own_container_ids(tmp_path)[0] == CID


def test_default_routes(tmp_path: Path) -> None:
    table = tmp_path / "route"
    header = "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
    table.write_text(header + "eth1\t00000000\t0180A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
                     "eth1\t0080A8C0\t00000000\t0001\t0\t0\t0\t00F0FFFF\t0\t0\t0\n")
    assert cm.default_routes(table) == ["eth1"]
    table.write_text(header + "eth1\t0080A8C0\t00000000\t0001\t0\t0\t0\t00F0FFFF\t0\t0\t0\n")
    assert cm.default_routes(table) == []


def test_detect() -> None:
    engine = FakeEngine()
    assert cm.detect(engine, True, ["nope", CID]) == cm.Placement(cm.Mode.ENTRYPOINT, CID)
    assert cm.detect(engine, False, [CID]).mode is cm.Mode.JOB
    assert cm.detect(engine, False, ["nope"]).mode is cm.Mode.HOST
    with pytest.raises(cm.ContainerModeError):
        cm.detect(engine, True, ["nope"])


def test_entrypoint_moves_to_the_run_network_only(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine()
    routes = [["eth1"], []]
    monkeypatch.setattr(cm, "default_routes", lambda: routes.pop(0) if routes else [])
    monkeypatch.delenv(NETWORK_ENV, raising=False)
    said: list[str] = []
    env = {cm.ENTRYPOINT_ENV: "1"}
    with cm.run_network("RUN1", env, client_factory=lambda: engine, ids=lambda: [CID],
                        say=said.append) as net:
        assert net is not None and net.name == "finsig-run-run1"
        assert engine.nets[net.name].internal
        assert engine.on[CID] == [net.name]  # left the bridge
        assert engine.helpers == [f"container:{CID}"]  # the default route was deleted
        assert os.environ[NETWORK_ENV] == net.name
    assert engine.on[CID] == []
    assert "left bridge" in said[0]


def test_job_container_keeps_its_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine()
    monkeypatch.setattr(cm, "DOCKERENV", Path(__file__))  # "exists": as in a container
    with cm.run_network("RUN2", {}, client_factory=lambda: engine, ids=lambda: [CID],
                        say=lambda _: None) as net:
        assert net is not None
        assert engine.on[CID] == ["bridge", net.name]
        assert engine.helpers == []
    assert engine.on[CID] == ["bridge"]


def test_host_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = FakeEngine()
    monkeypatch.setattr(cm, "DOCKERENV", Path(__file__))
    with cm.run_network("RUN3", {}, client_factory=lambda: engine, ids=lambda: ["other"]) as net:
        assert net is None
    assert engine.nets.keys() == {"bridge"}
