"""A second Docker engine beside the first: a faithful "isolated site" for tests (DESIGN §2).

Its own --data-root, --exec-root, --pidfile and unix socket under one temporary directory, in a
network namespace of its own (`unshare --net`: loopback only, no default route, so nothing it runs
can reach anything outside), with --iptables=false --ip-masq=false (it leaves the first engine's
and the host's firewall alone) and an empty --config-file (the host's daemon.json is not read). It
starts its own managed containerd under the exec root.

It keeps its default bridge (docker0 inside its own namespace): the runner image run as docs say
(`docker run` with no --network) starts on that bridge, then moves itself to the run's --internal
network. With --bridge=none the engine has no `bridge` network, and the runner's move failed
(measured: exit 3, `404 ... /networks/bridge: network bridge not found` when it looked up the
network its container was started on). The bridge adds no way out: the namespace has no
interface but loopback and the bridges the engine makes, and no default route (measured by the
site test through /proc/<dockerd pid>/net/route).

stop() ends the daemon (SIGTERM, then SIGKILL after a bounded wait), ends its containerd if it
outlived it, unmounts anything left under the root and deletes the whole directory, data root
included.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors


class SecondEngineError(RuntimeError):
    """The second engine did not start or stop in time; the message holds its log's tail."""


@dataclass
class SecondEngine:
    root: Path
    process: subprocess.Popen[bytes] | None = None
    _clients: list[Any] = field(default_factory=list)

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        """The DOCKER_HOST value that reaches this engine."""
        return f"unix://{self.socket}"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    def client(self) -> Any:
        client = docker.DockerClient(base_url=self.host, timeout=300)
        self._clients.append(client)
        return client

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"

    def start(self, wait: float = 60.0) -> SecondEngine:
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            raise SecondEngineError("dockerd is not installed")
        (self.root / "daemon.json").write_text("{}\n")
        # A network namespace of its own (loopback only): its docker0 and the run networks live
        # there, not beside the first engine's (in the host's namespace, a second dockerd with
        # --bridge=none even deleted the host's docker0), and nothing it runs has a way out.
        args = [
            "unshare", "--net", "--",
            dockerd,
            "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root),
            "--pidfile", str(self.root / "dockerd.pid"),
            "-H", self.host,
            "--iptables=false",
            "--ip-masq=false",
            "--config-file", str(self.root / "daemon.json"),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (a fixed argument list)
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SecondEngineError(
                    f"second dockerd exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self.socket.exists():
                try:
                    probe = docker.DockerClient(base_url=self.host, timeout=5)
                    try:
                        probe.ping()
                        return self
                    finally:
                        probe.close()
                except docker.errors.DockerException:
                    pass
            time.sleep(0.25)
        self.stop()
        raise SecondEngineError(f"second dockerd did not answer within {wait}s:\n{self.log_tail()}")

    def stop(self, wait: float = 30.0) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        containerd_pid = _read_pid(self.exec_root / "containerd" / "containerd.pid")
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if containerd_pid is not None:
            _end(containerd_pid, wait=10.0)  # started by our dockerd, so ours to end
        _unmount_below(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def start_second_engine(base: Path | None = None, wait: float = 60.0) -> SecondEngine:
    """Start an empty second engine under a new temporary directory (short path: unix sockets
    allow ~107 bytes)."""
    root = Path(tempfile.mkdtemp(prefix="finsig-site.", dir=base or "/tmp"))
    engine = SecondEngine(root)
    try:
        return engine.start(wait)
    except BaseException:
        engine.stop()
        raise


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _end(pid: int, wait: float) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _unmount_below(root: Path) -> None:
    """Unmount anything still mounted under root (deepest first), so rmtree cannot fail on it."""
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return
    prefix = f"{root}/"
    targets = [line.split()[1] for line in mounts if len(line.split()) > 1]
    for target in sorted((t for t in targets if t.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", target], check=False)  # noqa: S603,S607
