"""`build`: wheel and sdist, built twice offline, proven byte-identical, checked and installed.

Each build starts from a clean copy of the project (the files git tracks plus untracked ones it does
not ignore; without git, the tree minus caches, environments and run outputs) with SOURCE_DATE_EPOCH
set to the last commit's time. Without git the epoch is $SOURCE_DATE_EPOCH if set, else
315532800 (1980-01-01, the earliest time a zip can hold): finsig_runner.core.source decides. Outputs: the wheel and sdist in
artifacts/, artifacts/build-hash.txt (sha256sum format), and reports/build-report.json.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess  # nosec B404 - git ls-files for the project's file list
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from finsig_runner.core.context import StageContext
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import Check, StageInputs, StageResult, Status
from finsig_runner.core.source import source_epoch
from finsig_runner.stages.project_env import offline_pip_env
from finsig_runner.stages.build import archives as _archives
from finsig_runner.stages.common import (
    NO_NETWORK,
    Draft,
    StageBase,
    failed,
    digests,
    error,
    finish,
    first_line_version,
    now,
    resolve,
    runner_tool,
    runner_versions,
    skipped,
    tool_git,
)

_SKIP = {
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", ".finsig-runner", "reports",
    "artifacts", "build", "dist", "wheelhouse", "__pycache__", ".mypy_cache", ".pytest_cache",
    "node_modules",
}
_MISSING = re.compile(r"(?:No matching distribution found for|satisfies the requirement) (\S+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BuildStage(StageBase):
    name = "build"
    requires: tuple[str, ...] = ()
    checks: tuple[str, ...] = ("build.build", "build.reproducible", "build.twine", "build.install")
    always = False
    uses_project_env = False
    runs_project_code = True

    def inputs(self, ctx: StageContext) -> StageInputs:
        files = tuple(sorted(p for p in _project_files(ctx) if p.is_file()))
        return StageInputs(
            files=files,
            config=(("wheelhouse", ctx.config.wheelhouse),),
            tools=runner_versions("build", "twine", "pip"),
        )

    def run(self, ctx: StageContext) -> StageResult:
        started = now()
        wheels = resolve(ctx, ctx.config.wheelhouse)
        if not wheels.is_dir():
            return error(self.name, f"wheelhouse {wheels} does not exist", started)
        if not any((ctx.workspace / n).is_file() for n in ("pyproject.toml", "setup.py")):
            return skipped(self.name, "no pyproject.toml or setup.py", started)
        epoch, origin = self._epoch(ctx)
        env = {**offline_pip_env(wheels), "SOURCE_DATE_EPOCH": str(epoch)}
        version = ctx.run_tool([*runner_tool("build"), "--version"], timeout=120)
        result = Draft(self.name, Status.PASSED,
                       tool_versions={"build": first_line_version(version.output)},
                       summary={"source_date_epoch": epoch, "epoch_origin": origin})
        with tempfile.TemporaryDirectory(prefix="finsig-build-") as tmp:
            outs, problem = _build_twice(ctx, Path(tmp), env, wheels)
            problem = problem or _dists(outs[0], result)
            if problem is not None:
                if problem.status is Status.ERROR:
                    return error(self.name, problem.detail, started)
                result.checks.append(problem)
                return failed(result, problem.detail, started)
            self._check(ctx, Path(tmp), outs, wheels, result)
            bad = [c for c in result.checks if not c.status.ok]
            result.outputs = digests(ctx, self._record(ctx, outs[0], result, publish=not bad))
        if bad:
            return failed(result, "; ".join(f"{c.id}: {c.detail}" for c in bad), started)
        return finish(result, started)

    def _check(self, ctx: StageContext, root: Path, outs: tuple[Path, Path], wheels: Path,
               result: Draft) -> None:
        """After build.build: reproducible, twine and install."""
        problem = _compare(outs[0], outs[1])
        if problem:
            result.checks.append(Check("build.reproducible", Status.FAILED, problem))
        else:
            detail = "two builds byte-identical"
            result.checks.append(Check("build.reproducible", Status.PASSED, detail))
        files = sorted(result.summary["files"])
        result.checks.append(self._twine(ctx, [outs[0] / f for f in files], result.tool_versions))
        wheel = next(outs[0] / f for f in files if f.endswith(".whl"))
        result.checks.append(self._install(ctx, root, wheel, wheels, result.summary))

    def _record(self, ctx: StageContext, out: Path, result: Draft, publish: bool) -> list[Path]:
        """reports/build-report.json always; the dists and build-hash.txt only when all passed."""
        report = ctx.reports / "build-report.json"
        ctx.writer.json(report, {**result.summary,
                                 "checks": [c.to_json() for c in result.checks]})
        if not publish:
            return [report]
        hashes: dict[str, str] = result.summary["files"]
        ctx.artifacts.mkdir(parents=True, exist_ok=True)
        for name in hashes:
            shutil.copy2(out / name, ctx.artifacts / name)
        hash_file = ctx.artifacts / "build-hash.txt"
        ctx.writer.text(hash_file, "".join(f"{hashes[n]}  {n}\n" for n in hashes))
        return [report, *(ctx.artifacts / name for name in hashes), hash_file]

    def _epoch(self, ctx: StageContext) -> tuple[int, str]:
        epoch = source_epoch(ctx.workspace, git=tool_git(ctx))
        return epoch.seconds, epoch.origin

    def _twine(self, ctx: StageContext, files: list[Path], versions: dict[str, str]) -> Check:
        ver = ctx.run_tool([*runner_tool("twine"), "--version"], env=NO_NETWORK, timeout=120)
        versions["twine"] = first_line_version(ver.output)
        argv = [*runner_tool("twine"), "--no-color", "check", *map(str, files)]
        run = ctx.run_tool(argv, env=NO_NETWORK)
        output = _ANSI.sub("", run.output)
        verdicts = re.findall(r"Checking (\S+): (PASSED|FAILED|ERROR)", output)
        refused = [Path(name).name for name, verdict in verdicts if verdict != "PASSED"]
        if run.returncode != 0 or refused or len(verdicts) != len(files):
            reasons = [ln.strip() for ln in output.splitlines() if "ERROR" in ln or "WARNING" in ln]
            detail = f"{', '.join(refused) or 'twine check'}: {' '.join(reasons)}"
            return Check("build.twine", Status.FAILED, detail)
        return Check("build.twine", Status.PASSED, f"{len(files)} files pass")

    def _install(
        self, ctx: StageContext, root: Path, wheel: Path, wheels: Path, summary: dict[str, object]
    ) -> Check:
        venv = root / "install-venv"
        made = ctx.run_tool([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=300)
        if made.returncode != 0:
            detail = f"could not make a clean venv: exit {made.returncode}"
            return Check("build.install", Status.ERROR, detail)
        python = str(venv / "bin" / "python")
        run = ctx.run_tool(
            [sys.executable, "-m", "pip", "--python", python, "--no-input", "install",
             "--no-index", "--find-links", str(wheels), str(wheel)],
            env=offline_pip_env(wheels),
        )
        if run.returncode != 0:
            missing = _MISSING.search(run.output)
            why = f"needs {missing.group(1)}, not in the wheelhouse" if missing else ""
            detail = f"{wheel.name} does not install offline: {why or f'exit {run.returncode}'}"
            return Check("build.install", Status.FAILED, detail)
        names = _archives.import_names(wheel)
        summary["import_names"] = names
        if not names:
            detail = f"{wheel.name} has no importable top-level module"
            return Check("build.install", Status.FAILED, detail)
        code = "; ".join(f"import {n}" for n in names)
        imported = ctx.run_tool([python, "-I", "-c", code], cwd=root, timeout=300)
        if imported.returncode != 0:
            last = (imported.output.strip().splitlines() or [""])[-1]
            detail = f"{wheel.name} installs but `{code}` fails: {last}"
            return Check("build.install", Status.FAILED, detail)
        detail = f"installs offline, imports {', '.join(names)}"
        return Check("build.install", Status.PASSED, detail)


def _build_twice(ctx: StageContext, root: Path, env: dict[str, str], wheels: Path
                 ) -> tuple[tuple[Path, Path], Check | None]:
    """Two builds, each from its own clean copy; a failed build.build check (ERROR when the
    backend needs a wheel the wheelhouse lacks) stops the stage."""
    outs: list[Path] = []
    for i in (1, 2):
        out = root / f"out{i}"
        src = root / f"src{i}" / ctx.workspace.name
        _copy_project(ctx, src)
        run = ctx.run_tool([*runner_tool("build"), "--outdir", str(out), str(src)],
                           cwd=root, env=env)
        if run.returncode != 0:
            missing = _MISSING.search(run.output)
            if missing:
                reason = f"build backend needs {missing.group(1)}, not in {wheels}"
                return (out, out), Check("build.build", Status.ERROR, reason)
            lines = [ln for ln in run.output.splitlines() if ln.strip()]
            detail = f"build {i} failed (exit {run.returncode}): {lines[-1] if lines else ''}"
            return (out, out), Check("build.build", Status.FAILED, detail)
        outs.append(out)
    return (outs[0], outs[1]), None


def _dists(out: Path, result: Draft) -> Check | None:
    """build.build: the files one build made, hashed into the summary; a wheel and an sdist."""
    files = sorted(p.name for p in out.iterdir())
    result.summary["files"] = {name: sha256_file(out / name) for name in files}
    if not any(f.endswith(".whl") for f in files) or not any(f.endswith(".tar.gz") for f in files):
        detail = f"expected a wheel and an sdist, got {', '.join(files) or 'nothing'}"
        return Check("build.build", Status.FAILED, detail)
    result.checks.append(Check("build.build", Status.PASSED, ", ".join(files)))
    return None


def _git(ctx: StageContext, *args: str) -> list[str]:
    return ["git", "-c", f"safe.directory={ctx.workspace}", "-C", str(ctx.workspace), *args]


def _project_files(ctx: StageContext) -> list[Path]:
    """What a clean build sees: git's tracked and unignored files, else the tree minus _SKIP."""
    if (ctx.workspace / ".git").exists() or _inside_git(ctx):
        # A read-only listing, also used by inputs() (list, dry-run): not logged as a tool run.
        argv = _git(ctx, "ls-files", "-z", "-co", "--exclude-standard")
        try:
            done = subprocess.run(  # nosec B603 - fixed git argv
                argv, capture_output=True, timeout=120, check=False, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired):
            done = None
        if done is not None and done.returncode == 0:
            names = [n for n in done.stdout.decode("utf-8", "replace").split("\0") if n]
            return [
                ctx.workspace / n for n in sorted(names)
                if n.split("/")[0] not in _SKIP and (ctx.workspace / n).is_file()
            ]
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(ctx.workspace):
        # Without git, hidden directories (caches, image stores, VCS data) are left out too.
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP and not d.startswith("."))
        files.extend(Path(dirpath) / f for f in sorted(filenames))
    return files


def _inside_git(ctx: StageContext) -> bool:
    return any((parent / ".git").exists() for parent in ctx.workspace.resolve().parents)


def _copy_project(ctx: StageContext, dest: Path) -> None:
    for path in _project_files(ctx):
        target = dest / path.relative_to(ctx.workspace)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _compare(a: Path, b: Path) -> str:
    """'' when both directories hold the same files byte for byte, else what differs."""
    names_a = sorted(p.name for p in a.iterdir())
    names_b = sorted(p.name for p in b.iterdir())
    if names_a != names_b:
        return f"the builds made different files: {names_a} vs {names_b}"
    for name in names_a:
        if sha256_file(a / name) != sha256_file(b / name):
            where = _archives.first_difference(a / name, b / name)
            return f"{name} differs between two builds ({where})"
    return ""
