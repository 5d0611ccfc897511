"""The run's network when the runner runs inside a container (DESIGN section 3).

Three situations, decided at run start by `detect()`:

- ENTRYPOINT: the runner is the runner image's entrypoint (images/runner/entrypoint.sh sets
  FINSIG_RUNNER_CONTAINER_ENTRYPOINT=1). The runner creates the run's `--internal` network, joins
  it and leaves every other network of its container: from then on nothing it starts can reach
  anything outside, and the services it starts are reached by alias on that network.
- JOB: a plain `finsig-runner run` inside a container the engine knows (a CI job's container).
  The runner creates and joins the run's network too, but leaves the job's own networks alone.
- HOST: no container of this engine is ours: nothing is done (services are reached on 127.0.0.1).

In the first two the network's name is exported as FINSIG_RUNNER_NETWORK to the stages and every
process they start (the staging code and the project's tests read it); at run end — success,
failure or interrupt — the runner leaves the network and removes it.
"""

from __future__ import annotations

import enum
import os
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finsig_runner.containers.resources import remove_run, run_labels
from finsig_runner.core.errors import ToolError
from finsig_runner.containers.reach import NETWORK_ENV

ENTRYPOINT_ENV = "FINSIG_RUNNER_CONTAINER_ENTRYPOINT"
RUNNER_ALIAS = "finsig-runner"
DOCKERENV = Path("/.dockerenv")  # Docker puts it in every container (and these hosts carry one)
_ID = re.compile(r"/containers/([0-9a-f]{64})/")
_CGROUP_ID = re.compile(r"(?:docker[-/])([0-9a-f]{64})")


# Docker 20.10 gives a container on an --internal bridge a default route via the bridge's gateway
# (iptables drops what goes through it, but the route exists). The runner has no CAP_NET_ADMIN, so
# a short-lived helper in its network namespace, with that capability only, deletes the route:
# one RTM_DELROUTE netlink request for 0.0.0.0/0 in the main table (what `ip route del default`
# sends), then the kernel's answer is checked. Base images have no iproute2; python3 they have.
_DROP_DEFAULT_ROUTE = """
import socket, struct, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
rtm = struct.pack("BBBBBBBBI", socket.AF_INET, 0, 0, 0, 254, 0, 255, 0, 0)
msg = struct.pack("IHHII", 16 + len(rtm), 25, 1 | 4, 1, 0) + rtm
s.sendto(msg, (0, 0))
reply = s.recv(4096)
err = struct.unpack("i", reply[16:20])[0]
sys.exit(0 if err in (0, -3) else -err)
"""


def default_routes(route_table: Path = Path("/proc/net/route")) -> list[str]:
    """Interfaces with an IPv4 default route (destination 0.0.0.0/0) in this network namespace."""
    try:
        lines = route_table.read_text(encoding="ascii", errors="replace").splitlines()[1:]
    except OSError:
        return []
    return [f[0] for f in (line.split() for line in lines)
            if len(f) > 7 and f[1] == "00000000" and f[7] == "00000000"]


class ContainerModeError(ToolError):
    """The runner is the container's entrypoint but cannot isolate itself (exit 3)."""


class Mode(enum.Enum):
    ENTRYPOINT = "entrypoint"
    JOB = "job"
    HOST = "host"


@dataclass(frozen=True)
class Placement:
    mode: Mode
    container_id: str = ""


def network_name(run_id: str) -> str:
    return f"finsig-run-{run_id}".lower()


def own_container_ids(proc: Path = Path("/proc/self")) -> list[str]:
    """Candidate ids of the container this process runs in: mountinfo, cgroup, then hostname."""
    found: list[str] = []
    for name, pattern in (("mountinfo", _ID), ("cgroup", _CGROUP_ID)):
        try:
            text = (proc / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for match in pattern.finditer(text):
            if match.group(1) not in found:
                found.append(match.group(1))
    host = socket.gethostname()
    if host and host not in found:
        found.append(host)  # Docker's default hostname is the short container id
    return found


def detect(client: Any, entrypoint: bool, ids: list[str]) -> Placement:
    """Where the runner runs. `client` is a docker SDK client; `ids` from own_container_ids();
    `entrypoint`: the image's entrypoint started this runner (ENTRYPOINT_ENV was "1")."""
    import docker.errors

    for cid in ids:
        try:
            container = client.containers.get(cid)
        except (docker.errors.NotFound, docker.errors.APIError):
            continue
        return Placement(Mode.ENTRYPOINT if entrypoint else Mode.JOB, str(container.id))
    if entrypoint:
        raise ContainerModeError(
            "the runner is the container's entrypoint but the Docker engine behind the mounted "
            "socket does not know this container (tried: " + ", ".join(ids[:3]) + "); "
            "refusing to run without the run's internal network"
        )
    return Placement(Mode.HOST)


@dataclass
class RunNetwork:
    """The run's network and this container's place on it (made by `enter`, undone by `leave`)."""

    client: Any
    placement: Placement
    run_id: str
    name: str
    left: tuple[str, ...] = ()

    @classmethod
    def enter(cls, client: Any, placement: Placement, run_id: str) -> RunNetwork:
        name = network_name(run_id)
        network = client.networks.create(
            name, driver="bridge", internal=True, labels=run_labels(run_id, "runner"),
            check_duplicate=True,
        )
        made = cls(client, placement, run_id, name)
        try:
            network.connect(placement.container_id, aliases=[RUNNER_ALIAS])
            if placement.mode is Mode.ENTRYPOINT:
                made.left = made._leave_others()
                for _ in range(3):  # each network joined may have added one
                    if not default_routes():
                        break
                    made._drop_default_route()
                else:
                    raise ContainerModeError(
                        f"could not remove the default route ({', '.join(default_routes())})")
        except BaseException:
            made.leave()
            raise
        return made

    def _leave_others(self) -> tuple[str, ...]:
        container = self.client.containers.get(self.placement.container_id)
        settings = container.attrs.get("HostConfig", {})
        if settings.get("NetworkMode") in ("host", "none") or str(
            settings.get("NetworkMode", "")
        ).startswith("container:"):
            raise ContainerModeError(
                f"the runner container uses --network {settings.get('NetworkMode')}; run it on "
                "the default bridge (or any bridge network) so that it can move to the run's "
                "internal network"
            )
        names = list(container.attrs.get("NetworkSettings", {}).get("Networks", {}))
        left: list[str] = []
        for other in names:
            if other == self.name:
                continue
            self.client.networks.get(other).disconnect(self.placement.container_id, force=True)
            left.append(other)
        return tuple(left)

    def _drop_default_route(self) -> None:
        """Delete this container's default route from a helper sharing its network namespace."""
        own = self.client.containers.get(self.placement.container_id)
        self.client.containers.run(
            own.attrs["Image"],
            ["python3", "-c", _DROP_DEFAULT_ROUTE],
            entrypoint=[],
            user="0:0",
            network_mode=f"container:{self.placement.container_id}",
            cap_drop=["ALL"],
            cap_add=["NET_ADMIN"],
            security_opt=["no-new-privileges"],
            labels=run_labels(self.run_id, "runner"),
            remove=True,
        )

    def leave(self) -> list[str]:
        """Leave the run's network, then remove every container, network and volume labelled
        with this run (the stages remove their own; this is the last sweep). Returns problems."""
        import docker.errors

        problems: list[str] = []
        try:
            self.client.networks.get(self.name).disconnect(self.placement.container_id, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            problems.append(f"leaving {self.name}: {exc}")
        removal = remove_run(self.client, self.run_id, images=False)
        problems.extend(removal.errors)
        return problems


@contextmanager
def run_network(
    run_id: str,
    env: Mapping[str, str] | None = None,
    *,
    client_factory: Callable[[], Any] | None = None,
    ids: Callable[[], list[str]] = own_container_ids,
    say: Callable[[str], None] = print,
) -> Iterator[RunNetwork | None]:
    """Around a run: in a container, the run's network exists and FINSIG_RUNNER_NETWORK names it."""
    env = os.environ if env is None else env
    entrypoint = env.get(ENTRYPOINT_ENV) == "1"
    os.environ.pop(ENTRYPOINT_ENV, None)  # the stages' children are not the entrypoint
    if not entrypoint and not DOCKERENV.exists():
        yield None
        return
    try:
        if client_factory is None:
            import docker

            client = docker.from_env()
        else:
            client = client_factory()
        placement = detect(client, entrypoint, ids())
    except ContainerModeError:
        raise
    except Exception as exc:
        if entrypoint:
            raise ContainerModeError(f"cannot reach the Docker engine: {exc}") from exc
        yield None  # no engine: the stages that need one say so themselves
        return
    if placement.mode is Mode.HOST:
        yield None
        return
    net = RunNetwork.enter(client, placement, run_id)
    previous = os.environ.get(NETWORK_ENV)
    os.environ[NETWORK_ENV] = net.name
    left = f"; left {', '.join(net.left)}" if net.left else ""
    say(f"network: {net.name} (internal, container {placement.container_id[:12]}, "
        f"{placement.mode.value}{left})")
    try:
        yield net
    finally:
        if previous is None:
            os.environ.pop(NETWORK_ENV, None)
        else:
            os.environ[NETWORK_ENV] = previous
        try:
            problems = net.leave()
        except Exception as exc:  # the run's verdict stands; say what is left
            problems = [str(exc)]
        for problem in problems:
            say(f"network: cleanup: {problem}")
