"""Unit tests (no Docker): the address decision, owner judgement, image diff, the deploy report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from finsig_runner.containers import resources as docker_resources, reach
from finsig_runner.core.model import Check, Status
from finsig_runner.core.outputs import OutputWriter
from finsig_runner.core.redaction import Redactor
from finsig_runner.stages.image import image_diff as imagediff
from finsig_runner.stages.staging.report import DeployReport

ATTRS = {"NetworkSettings": {"Ports": {
    "8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}],
    "9090/tcp": [{"HostIp": "0.0.0.0", "HostPort": "49154"}],
    "9093/tcp": None,
}}}


def test_inside_the_runner_a_service_is_its_alias_and_container_port() -> None:
    env = {reach.NETWORK_ENV: "finsig-run"}
    assert reach.address("app", 8000, ATTRS, env) == reach.Address("app", 8000)
    assert reach.address("app", 8000, None, env).url("/readyz") == "http://app:8000/readyz"


def test_on_the_host_a_service_is_127_0_0_1_and_its_published_port() -> None:
    assert reach.address("app", 8000, ATTRS, {}) == reach.Address("127.0.0.1", 49153)
    assert reach.address("app", 8000, ATTRS, {reach.NETWORK_ENV: " "}).host == "127.0.0.1"


@pytest.mark.parametrize("port", [9090, 9093, 5432])
def test_a_port_not_published_on_127_0_0_1_has_no_address(port: int) -> None:
    with pytest.raises(reach.UnreachableError):
        reach.address("x", port, ATTRS, {})


def test_no_container_data_on_the_host_is_unreachable() -> None:
    with pytest.raises(reach.UnreachableError):
        reach.address("app", 8000, None, {})


class _NotFound(Exception):
    pass


class _Client:
    def __init__(self, containers: dict[str, Any]) -> None:
        self._containers = containers
        self.containers = self

    def get(self, name: str) -> Any:
        import docker.errors

        if name not in self._containers:
            raise docker.errors.NotFound("no such container")
        return self._containers[name]


class _Container:
    def __init__(self, hostname: str, running: bool) -> None:
        self.attrs = {"Config": {"Hostname": hostname}, "State": {"Running": running}}


def _labels(host: str, pid: str = "4242", start: str = "100") -> dict[str, str]:
    return {docker_resources.RUN_LABEL: "r1", docker_resources.HOST_LABEL: host,
            docker_resources.PID_LABEL: pid, docker_resources.PID_START_LABEL: start}


def test_a_run_whose_process_is_gone_is_over() -> None:
    verdict = docker_resources.judge(_labels("me"), _Client({}), "me", lambda pid: "")
    assert verdict.over and "gone" in verdict.why


def test_a_reused_pid_does_not_keep_a_run_alive() -> None:
    verdict = docker_resources.judge(_labels("me"), _Client({}), "me", lambda pid: "999")
    assert verdict.over and "reused" in verdict.why


def test_a_running_process_keeps_its_run() -> None:
    verdict = docker_resources.judge(_labels("me"), _Client({}), "me", lambda pid: "100")
    assert not verdict.over


def test_a_runner_container_decides_by_its_state() -> None:
    stopped = _Client({"abc123": _Container("abc123", running=False)})
    running = _Client({"abc123": _Container("abc123", running=True)})
    assert docker_resources.judge(_labels("abc123"), stopped, "host").over
    assert not docker_resources.judge(_labels("abc123"), running, "host").over


def test_an_unknown_owner_is_kept() -> None:
    assert not docker_resources.judge(_labels("elsewhere"), _Client({}), "me").over
    assert not docker_resources.judge({docker_resources.RUN_LABEL: "r"}, _Client({}), "me").over


def test_run_labels_name_the_run_stage_and_owner() -> None:
    labels = docker_resources.run_labels("r9", "staging")
    assert labels[docker_resources.RUN_LABEL] == "r9"
    assert labels[docker_resources.STAGE_LABEL] == "staging"
    assert labels[docker_resources.PID_LABEL].isdigit()
    assert labels[docker_resources.PID_START_LABEL].isdigit()


def test_image_diff_names_config_fields_and_layers() -> None:
    first = {"Id": "sha256:a", "Created": "t1", "Config": {"Labels": {"x": "1"}, "Env": ["A"]},
             "RootFS": {"Layers": ["l0", "l1", "l2"]}, "RepoTags": ["t:1"]}
    second = {"Id": "sha256:b", "Created": "t2", "Config": {"Labels": {"x": "1"}, "Env": ["A"]},
              "RootFS": {"Layers": ["l0", "l1b", "l2b"]}, "RepoTags": ["t:2"]}
    diff = imagediff.compare(first, second)
    assert not diff.same
    assert diff.config_fields == ("Created",)
    assert [i for i, _, _ in diff.layers] == [1, 2]
    assert "Created" in diff.describe() and "1, 2 of 3" in diff.describe()
    assert imagediff.compare(first, dict(first)).same


def test_the_deploy_report_is_timestamped_and_carries_each_check(tmp_path: Path) -> None:
    report = DeployReport("r1")
    report.log("starting app")
    report.add(Check("staging.ready.app", Status.PASSED, "200"), datetime.now(UTC), 0.25)
    report.measure("all_green_s", 7.5)
    report.attach_log("app", "line one\nline two")
    writer = OutputWriter(tmp_path, Redactor({}))
    text, data = report.write(writer, tmp_path / "reports", Status.PASSED, "")
    lines = text.read_text().splitlines()
    assert lines[0].endswith("run r1")
    assert all(line[:4].isdigit() and "Z" in line[:25] for line in lines[1:])
    assert any("app: line two" in line for line in lines)
    doc = json.loads(data.read_text())
    assert doc["checks"][0]["id"] == "staging.ready.app"
    assert doc["checks"][0]["seconds"] == 0.25
    assert doc["measurements"] == {"all_green_s": 7.5}
    assert doc["logs"]["app"] == "line one\nline two"


class _Wrapped:
    """A docker SDK container stand-in: a fixed State and log lines."""

    def __init__(self, state: dict[str, Any], logs: bytes = b"line one\nline two\n") -> None:
        self.attrs = {"State": state}
        self._logs = logs

    def reload(self) -> None:
        pass

    def logs(self, tail: int = 30) -> bytes:
        return b"\n".join(self._logs.splitlines()[-tail:])


class _Target:
    def __init__(self, wrapped: _Wrapped) -> None:
        self.wrapped = wrapped

    def get_wrapped_container(self) -> _Wrapped:
        return self.wrapped


@pytest.mark.timeout(10)
def test_a_container_that_never_gets_healthy_fails_within_its_timeout_with_its_logs() -> None:
    import time

    from finsig_runner.containers.waits import HealthyOrExited, StackError

    target = _Target(_Wrapped({"Status": "running", "Health": {"Status": "starting"}},
                              b"waiting for config\nstill waiting\n"))
    began = time.monotonic()
    with pytest.raises(StackError) as caught:
        HealthyOrExited("app", 0.6, lambda: False).wait_until_ready(target)  # type: ignore
    assert time.monotonic() - began < 3  # bounded: never a hang
    assert "app: not healthy within 1s (status running, health starting)" in str(caught.value)
    assert caught.value.logs.splitlines()[-1] == "still waiting"


@pytest.mark.timeout(10)
def test_an_unhealthy_container_fails_at_once_with_its_last_probe_and_logs() -> None:
    from finsig_runner.containers.waits import HealthyOrExited, StackError

    state = {"Status": "running", "Health": {"Status": "unhealthy",
                                             "Log": [{"Output": "connection refused"}]}}
    with pytest.raises(StackError) as caught:
        HealthyOrExited("prometheus", 300, lambda: False).wait_until_ready(
            _Target(_Wrapped(state)))  # type: ignore
    assert "prometheus: unhealthy (last probe: connection refused)" in str(caught.value)
    assert "line two" in caught.value.logs
