"""The staging stack: the compose file's services on the run's own network, and its teardown.

Each service starts as soon as its dependencies meet their depends_on conditions (started or
healthy), so independent services start in parallel. Every container, the network and every
volume carry the run's labels. On the host the stack gets a network of its own, a plain bridge,
with ports published on 127.0.0.1. Inside the runner container the services join the run's
internal network that the runner made and is on (FINSIG_RUNNER_NETWORK, see container_mode),
no port is published, and services are reached by alias; that network is the runner's to remove.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from finsig_runner.containers import resources as docker_resources, reach
from finsig_runner.containers.compose import ComposeProject, Condition, Service
from finsig_runner.containers.waits import HealthyOrExited, StackError, Stopped


def resource_name(run_id: str, name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", f"finsig-{run_id}-{name}").lower()


class StackJournal(Protocol):
    """Where the stack writes what it does (the staging stage's deploy report)."""

    services: dict[str, dict[str, Any]]  # per service: image, container, start and ready times

    def log(self, message: str) -> None: ...

    def elapsed(self) -> float: ...


@dataclass
class Running:
    service: Service
    container: DockerContainer

    @property
    def wrapped(self) -> Any:
        return self.container.get_wrapped_container()

    def address(self, port: int) -> reach.Address:
        self.wrapped.reload()
        return reach.address(self.service.name, port, self.wrapped.attrs)


class Stack:
    def __init__(self, client: Any, project: ComposeProject, run_id: str, labels: dict[str, str],
                 report: StackJournal, start_timeout: float, stop: Callable[[], bool]) -> None:
        self.client = client
        self.project = project
        self.run_id = run_id
        self.labels = labels
        self.report = report
        self.start_timeout = start_timeout
        self.stop = stop
        self.inside = reach.inside_runner()
        self.network: Network | None = None
        self.volumes: dict[str, str] = {}
        self.services: dict[str, Running] = {}
        self._lock = threading.Lock()

    # --- bring-up ---------------------------------------------------------------------------

    def up(self) -> None:
        """Start every service; raises StackError naming the first service that failed."""
        # Cleanup is ours (labels, teardown, `clean`): testcontainers' reaper image cannot be
        # pulled here, so it must never be tried, whatever the environment says.
        testcontainers_config.ryuk_disabled = True
        missing = [s.image for s in self.project.services.values() if not self._has(s.image)]
        if missing:
            raise StackError(missing[0].split(":")[0], f"image {', '.join(missing)} is not "
                             "here (never pulled: build it with `make images`)")
        self.network = self._network()
        for volume in self.project.volumes:
            vname = resource_name(self.run_id, volume)
            self.client.volumes.create(vname, labels={**self.project.volumes[volume],
                                                      **self.labels})
            self.volumes[volume] = vname
        started = {n: threading.Event() for n in self.project.services}
        healthy = {n: threading.Event() for n in self.project.services}
        failures: list[BaseException] = []
        abort = threading.Event()

        def halted() -> bool:
            return abort.is_set() or self.stop()

        def bring(service: Service) -> None:
            try:
                for dep in service.depends_on:
                    gate = healthy if dep.condition is Condition.HEALTHY else started
                    while not gate[dep.service].wait(0.2):
                        if halted():
                            raise Stopped(service.name)
                self._start(service, started[service.name], halted)
                healthy[service.name].set()
            except BaseException as exc:  # noqa: B036 - handed to the caller below
                if not isinstance(exc, (StackError, Stopped)):
                    exc = StackError(service.name, f"could not start: {exc}")
                with self._lock:
                    failures.append(exc)
                abort.set()

        threads = [threading.Thread(target=bring, args=(s,), name=f"staging-{s.name}",
                                    daemon=True) for s in self.project.services.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        real = [f for f in failures if not isinstance(f, Stopped)]
        if real:
            raise real[0]
        if failures:
            raise failures[0]

    def _network(self) -> Network:
        shared = reach.run_network()
        if shared is not None:  # inside the runner: its network, already joined
            network = Network()
            network.name = shared
            self.report.log(f"network {shared} (the run's internal network, services by alias)")
            return network
        name = resource_name(self.run_id, "net")
        network = Network(docker_network_kw={"driver": "bridge", "labels": dict(self.labels)})
        network.name = name
        created = network.create()
        self.report.log(f"network {name} (bridge, ports on 127.0.0.1)")
        return created

    def _has(self, image: str) -> bool:
        import docker.errors

        try:
            self.client.images.get(image)
            return True
        except docker.errors.ImageNotFound:
            return False

    def _start(self, service: Service, started: threading.Event,
               halted: Callable[[], bool]) -> None:
        t0 = time.monotonic()
        started_s = self.report.elapsed()  # when this service began, on the report's clock
        container = DockerContainer(
            service.image,
            name=resource_name(self.run_id, service.name),
            labels={**service.labels, **self.labels},
            healthcheck=service.healthcheck.to_docker() if service.healthcheck else None,
        )
        assert self.network is not None
        container.with_network(self.network).with_network_aliases(service.name)
        if service.environment:
            container.with_envs(**dict(service.environment))
        if service.command is not None:
            container.with_command(list(service.command))
        if not self.inside:
            for port in service.ports:
                # 127.0.0.1 only, any free port by default (a docker SDK `ports` value:
                # testcontainers' with_bind_ports cannot name a host address)
                key = f"{port.container_port}/{port.protocol}"
                binding: Any = (reach.LOOPBACK, port.host_port)
                container.ports[key] = binding
        for mount in service.volumes:
            container.with_volume_mapping(self.volumes[mount.volume], mount.target,
                                          "ro" if mount.read_only else "rw")
        for bind in service.binds:
            container.with_copy_into_container(bind.path, bind.target)
        container.waiting_for(HealthyOrExited(service.name, self.start_timeout, halted))
        with self._lock:
            self.services[service.name] = Running(service, container)
        self.report.log(f"starting {service.name} ({service.image})")
        try:
            container.start()
        except StackError:
            raise
        except Stopped:
            raise
        except Exception as exc:
            raise StackError(service.name, f"could not start: {exc}") from exc
        finally:
            started.set()
        self.report.services[service.name] = {
            "image": service.image, "container": container.get_wrapped_container().name,
            "started_s": round(started_s, 3), "ready_after_s": round(time.monotonic() - t0, 3)}
        self.report.log(f"{service.name} ready in {time.monotonic() - t0:.2f}s")

    # --- use --------------------------------------------------------------------------------

    def get(self, name: str) -> Running:
        return self.services[name]

    # --- teardown ---------------------------------------------------------------------------

    def down(self) -> list[str]:
        """Remove every container, the network and the volumes of this run; what could not go."""
        errors: list[str] = []
        removal = docker_resources.remove_run(
            self.client, self.run_id, stage=self.labels.get(docker_resources.STAGE_LABEL),
            images=False)
        errors.extend(removal.errors)
        for item in removal.removed:
            self.report.log(f"removed {item.kind} {item.name}")
        return errors

    def left_over(self) -> Mapping[str, list[str]]:
        """What of this run still exists (should be nothing after down())."""
        stage = self.labels.get(docker_resources.STAGE_LABEL, "")
        flt = {"label": [f"{docker_resources.RUN_LABEL}={self.run_id}",
                         f"{docker_resources.STAGE_LABEL}={stage}"]}
        return {
            "containers": [c.name for c in self.client.containers.list(all=True, filters=flt)],
            "networks": [n.name for n in self.client.networks.list(filters=flt)],
            "volumes": [v.name for v in self.client.volumes.list(filters=flt)],
        }
