"""CycloneDX SBOMs made with cyclonedx-py (the cyclonedx-bom tool beside the runner).

- artifacts/sbom-app.cdx.json: the app's dependency set, from its lock files (config
  `requirements`), with the project's pyproject.toml as the root component;
- artifacts/sbom-runner.cdx.json: the runner's own environment (the interpreter running it: inside
  the runner image, the image's environment).

`--output-reproducible` leaves out the serial number and the timestamp (SOURCE_DATE_EPOCH is
removed from the tool's environment so that no time enters), so the same inputs give the same bytes.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

APP = "artifacts/sbom-app.cdx.json"
RUNNER = "artifacts/sbom-runner.cdx.json"
_TOOL = (sys.executable, "-m", "cyclonedx_py")
_COMMON = ("--output-reproducible", "--of", "JSON", "--sv", "1.6")


class ToolResult(Protocol):
    @property
    def returncode(self) -> int: ...

    @property
    def output(self) -> str: ...


RunTool = Callable[[Sequence[str], Mapping[str, str]], ToolResult]


@dataclass(frozen=True)
class Outcome:
    path: str | None  # relative to the workspace, None when not made
    problem: str  # "" when made


def _tail(output: str) -> str:
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def app_sbom(run: RunTool, root: Path, locks: Sequence[Path]) -> Outcome:
    present = [p for p in locks if p.is_file()]
    if not present:
        return Outcome(None, "no lock file (config `requirements`) to describe")
    target = root / APP
    with tempfile.TemporaryDirectory(prefix="finsig-sbom-") as tmp:
        joined = Path(tmp) / "requirements.txt"
        joined.write_text("".join(p.read_text(encoding="utf-8") + "\n" for p in present),
                          encoding="utf-8")
        argv = [*_TOOL, "requirements", *_COMMON, "-o", str(target)]
        if (root / "pyproject.toml").is_file():
            argv += ["--pyproject", str(root / "pyproject.toml")]
        done = run([*argv, str(joined)], {"SOURCE_DATE_EPOCH": ""})
    return _outcome(done, target, APP)


def runner_sbom(run: RunTool, root: Path, python: str = sys.executable) -> Outcome:
    target = root / RUNNER
    done = run([*_TOOL, "environment", *_COMMON, "-o", str(target), python],
               {"SOURCE_DATE_EPOCH": ""})
    return _outcome(done, target, RUNNER)


def _outcome(done: ToolResult, target: Path, rel: str) -> Outcome:
    if done.returncode != 0 or not target.is_file():
        target.unlink(missing_ok=True)
        return Outcome(None, f"cyclonedx-py exit {done.returncode}: {_tail(done.output)}")
    return Outcome(rel, "")


def make_both(run: RunTool, root: Path, locks: Sequence[Path]) -> tuple[Outcome, Outcome]:
    """Both SBOMs, made side by side (the environment scan takes the longer)."""
    (root / "artifacts").mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="sbom") as pool:
        app = pool.submit(app_sbom, run, root, locks)
        runner = pool.submit(runner_sbom, run, root)
        return app.result(), runner.result()


MakeSboms = Callable[[RunTool, Path, Sequence[Path]], tuple[Outcome, Outcome]]
