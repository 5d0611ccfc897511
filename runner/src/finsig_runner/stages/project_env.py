"""The project environment: one virtual environment per workspace, made offline from the wheelhouse.

`prepare(ctx)` runs once per run before the stages that use it (tests, typing). It installs the
project's locks with `--require-hashes`, the project itself (editable, so that coverage and mypy see
the workspace's sources; the `build` stage proves the wheel separately), and mypy at the runner's
own version unless the locks pin one, so that the project's mypy plugins load in mypy's interpreter.
pip never reaches an index: `--no-index --find-links <wheelhouse>`, also for the isolated build
environment of the project's backend (PIP_NO_INDEX / PIP_FIND_LINKS).

The environment is reused while its key (Python, locks, packaging files, mypy version) is unchanged.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from importlib import metadata
from pathlib import Path

from finsig_runner.core.context import StageContext, ToolRun
from finsig_runner.stages.common import NO_NETWORK
from finsig_runner.core.errors import MissingRequirementError, ProjectEnvError

VENV_DIR = Path(".finsig-runner") / "venv"
KEY_FILE = ".finsig-runner-key"
PACKAGING_FILES = ("pyproject.toml", "setup.py", "setup.cfg")

_MISSING = (
    re.compile(r"No matching distribution found for (\S+)"),
    re.compile(r"Could not find a version that satisfies the requirement (\S+)"),
)
_HASH_LINE = re.compile(r"^\s+(\S+==\S+) from ", re.MULTILINE)


def venv_path(ctx: StageContext) -> Path:
    return ctx.workspace / VENV_DIR


def lock_files(ctx: StageContext) -> list[Path]:
    """The configured locks that exist: what ships, then the test dependencies."""
    names = (*ctx.config.requirements, *ctx.config.test_requirements)
    paths = [_resolve(ctx, n) for n in names]
    return [p for p in paths if p.is_file()]


def wheelhouse(ctx: StageContext) -> Path:
    path = _resolve(ctx, ctx.config.wheelhouse)
    if not path.is_dir():
        raise ProjectEnvError(f"wheelhouse {path} does not exist")
    return path


def prepare(ctx: StageContext) -> Path:
    """Make (or reuse) the project environment; return its bin directory."""
    wheels = wheelhouse(ctx)
    venv = venv_path(ctx)
    bin_dir = venv / "bin"
    locks = lock_files(ctx)
    key = _key(ctx, locks)
    key_file = venv / KEY_FILE
    if (bin_dir / "python").exists() and key_file.is_file() and key_file.read_text() == key:
        return bin_dir
    if venv.exists():
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    made = ctx.run_tool([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    _check(ctx, made, "making the venv", wheels)
    pip = _pip(venv)
    offline = ["--no-index", "--find-links", str(wheels)]
    env = offline_pip_env(wheels)
    if locks:
        argv = [*pip, "install", *offline, "--require-hashes"]
        for lock in locks:
            argv += ["-r", str(lock)]
        _check(ctx, ctx.run_tool(argv, env=env), "installing the locks", wheels)
    if any((ctx.workspace / n).is_file() for n in PACKAGING_FILES):
        argv = [*pip, "install", *offline, "--no-deps", "-e", str(ctx.workspace)]
        _check(ctx, ctx.run_tool(argv, env=env), "installing the project", wheels)
    if not (bin_dir / "mypy").exists():
        argv = [*pip, "install", *offline, f"mypy=={runner_mypy_version()}"]
        _check(ctx, ctx.run_tool(argv, env=env), "installing mypy", wheels)
    key_file.write_text(key)
    return bin_dir


def offline_pip_env(wheels: Path) -> dict[str, str]:
    """Environment for any pip (or build front-end) run: the wheelhouse only, never an index."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_CACHE_DIR": "1",  # nothing written to $HOME, which may not be writable
        # The machine's pip configuration (extra indexes, find-links, constraints) must not leak in.
        "PIP_CONFIG_FILE": os.devnull,
        # Anything that still tries the network meets a closed local port.
        **NO_NETWORK,
    }


def runner_mypy_version() -> str:
    return metadata.version("mypy")


def _pip(venv: Path) -> list[str]:
    # The runner's own (current) pip drives the new environment; the venv itself gets no pip.
    return [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "--no-input"]


def _resolve(ctx: StageContext, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else ctx.workspace / path


def _key(ctx: StageContext, locks: list[Path]) -> str:
    digest = hashlib.sha256()
    digest.update(sys.version.encode())
    digest.update(runner_mypy_version().encode())
    for path in [*locks, *(ctx.workspace / n for n in PACKAGING_FILES)]:
        if path.is_file():
            digest.update(str(path).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _check(ctx: StageContext, run: ToolRun, what: str, wheels: Path) -> None:
    if run.timed_out:
        raise ProjectEnvError(f"{what}: timed out after {run.duration:.0f}s (see {ctx.log_path})")
    if run.returncode == 0:
        return
    for pattern in _MISSING:
        match = pattern.search(run.output)
        if match:
            requirement = match.group(1)
            raise MissingRequirementError(
                f"{what}: no wheel for {requirement} in the wheelhouse {wheels}", requirement
            )
    if "DO NOT MATCH THE HASHES" in run.output:
        bad = _HASH_LINE.findall(run.output)
        names = ", ".join(bad) or "?"
        raise ProjectEnvError(f"{what}: wheel hash does not match the lock for {names}")
    errors = [line for line in run.output.splitlines() if line.startswith("ERROR:")]
    detail = errors[-1] if errors else f"exit {run.returncode}"
    raise ProjectEnvError(f"{what}: {detail} (see {ctx.log_path})")
