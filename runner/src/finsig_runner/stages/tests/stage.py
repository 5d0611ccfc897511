"""`tests`: pytest + pytest-cov in the project environment -> JUnit, Cobertura, HTML coverage."""

from __future__ import annotations

import json
import shutil
import tomllib
import xml.etree.ElementTree as ET  # nosec B405 - parses the report coverage just wrote
from dataclasses import dataclass
from pathlib import Path

from finsig_runner.core.context import StageContext, ToolRun
from finsig_runner.core.model import Check, StageInputs, StageResult, Status
from finsig_runner.stages.tests import junit as _junit
from finsig_runner.stages.common import (
    Draft,
    StageBase,
    config_files,
    digests,
    error,
    existing,
    finish,
    listing,
    now,
    python_files,
)

# pytest exit codes: 0 passed, 1 tests failed, 5 no tests collected; others mean pytest broke.
_NO_TESTS = 5
_VERSIONS = (
    "import json, importlib.metadata as m\n"
    "out = {}\n"
    "for name in ('pytest', 'pytest-cov', 'coverage'):\n"
    "    try:\n"
    "        out[name] = m.version(name)\n"
    "    except m.PackageNotFoundError:\n"
    "        pass\n"
    "print(json.dumps(out))\n"
)


class TestsStage(StageBase):
    __test__ = False  # not a pytest test class, whatever its name

    name = "tests"
    requires: tuple[str, ...] = ()
    checks: tuple[str, ...] = ("tests.pass", "tests.coverage")
    always = False
    uses_project_env = True
    runs_project_code = True

    def inputs(self, ctx: StageContext) -> StageInputs:
        cfg = ctx.config
        return StageInputs(
            files=python_files(ctx, [*cfg.sources, "tests"])
            + config_files(ctx)
            + existing(ctx, (*cfg.requirements, *cfg.test_requirements)),
            config=(
                ("coverage_min", str(cfg.coverage_min)),
                ("pytest_args", " ".join(cfg.pytest_args)),
            ),
        )

    def run(self, ctx: StageContext) -> StageResult:
        started = now()
        python = ctx.project_tool("python")
        versions = _tool_versions(ctx, python)
        missing = [n for n in ("pytest", "pytest-cov") if n not in versions]
        if missing:
            locks = ", ".join(ctx.config.test_requirements) or "(no test lock configured)"
            reason = f"{' and '.join(missing)} not in the project environment: add to {locks}"
            return error(self.name, reason, started)
        out = _Reports(ctx.reports)
        run = _pytest(ctx, python, out)
        result = Draft(self.name, Status.PASSED, tool_versions=versions)
        if run.timed_out:
            return error(self.name, f"pytest timed out after {run.duration:.0f}s", started)
        if run.returncode == _NO_TESTS:
            result.status = Status.SKIPPED
            result.reason = "the project has no tests (pytest collected none)"
            result.outputs = digests(ctx, [out.junit])
            return finish(result, started)
        # Exit 2 with failing cases in the report is a collection error: the project's finding.
        if run.returncode not in (0, 1, 2) or not out.junit.is_file():
            reason = f"pytest broke (exit {run.returncode}, see {ctx.log_path})"
            return error(self.name, reason, started)
        try:
            summary = _junit.read(out.junit)
        except _junit.JUnitError as exc:
            return error(self.name, f"unreadable JUnit report: {exc}", started)
        if run.returncode == 2 and not summary.failed:
            reason = f"pytest was interrupted (exit 2, see {ctx.log_path})"
            return error(self.name, reason, started)
        result.summary = dict[str, object](summary.to_json())
        result.outputs = digests(ctx, [out.junit, out.cov_xml, out.cov_html])
        reasons = _judge_tests(result, summary, run.returncode)
        reasons += _judge_coverage(ctx, result, out.cov_xml, failed_before=bool(reasons))
        if reasons:
            states = {c.status for c in result.checks}
            result.status = Status.ERROR if Status.ERROR in states else Status.FAILED
            result.reason = "; ".join(reasons)
        return finish(result, started)


@dataclass(frozen=True)
class _Reports:
    """Where pytest and coverage write, under reports/."""

    root: Path

    @property
    def junit(self) -> Path:
        return self.root / "test-results.xml"

    @property
    def cov_xml(self) -> Path:
        return self.root / "coverage.xml"

    @property
    def cov_html(self) -> Path:
        return self.root / "coverage-html"


def _tool_versions(ctx: StageContext, python: str) -> dict[str, str]:
    """pytest, pytest-cov and coverage as the project environment has them."""
    probe = ctx.run_tool([python, "-c", _VERSIONS], timeout=120)
    if probe.returncode == 0 and probe.output.strip():
        versions: dict[str, str] = json.loads(probe.output.strip().splitlines()[-1])
        return versions
    return {}


def _pytest(ctx: StageContext, python: str, out: _Reports) -> ToolRun:
    ctx.reports.mkdir(parents=True, exist_ok=True)
    for stale in (out.junit, out.cov_xml):
        stale.unlink(missing_ok=True)
    shutil.rmtree(out.cov_html, ignore_errors=True)
    argv = [
        python, "-m", "pytest",
        "-p", "no:cacheprovider",
        f"--junitxml={out.junit}",
        *_cov_sources(ctx),
        f"--cov-report=xml:{out.cov_xml}",
        f"--cov-report=html:{out.cov_html}",
        "--cov-report=term",
        "--cov-fail-under=0",  # the project's own threshold must not turn into a test failure
        *ctx.config.pytest_args,
    ]
    data_file = ctx.workspace / ".finsig-runner" / ".coverage"
    return ctx.run_tool(argv, env={"COVERAGE_FILE": str(data_file)})


def _judge_tests(result: Draft, summary: _junit.JUnitSummary, returncode: int) -> list[str]:
    """tests.pass; the reasons it failed (none when it passed)."""
    if not summary.failed and returncode == 0:
        detail = f"{summary.passed} passed of {summary.tests}"
        result.checks.append(Check("tests.pass", Status.PASSED, detail))
        return []
    ids = [f.id for f in summary.failed]
    counts = f"{summary.failures} failed, {summary.errors} errors of {summary.tests}"
    first = summary.failed[0] if summary.failed else None
    detail = f"{counts}: {listing(ids)}"
    if first is not None and first.message:
        detail += f"; first: {first.id}: {first.message[:200]}"
    result.summary["failed_cases"] = [
        {"id": f.id, "kind": f.kind, "message": f.message} for f in summary.failed[:50]
    ]
    if not ids:  # pytest failed without a failing case (e.g. a session-level error)
        detail = f"pytest exit {returncode} with no failing case in the JUnit report"
    result.checks.append(Check("tests.pass", Status.FAILED, detail))
    return [detail]


def _judge_coverage(ctx: StageContext, result: Draft, cov_xml: Path,
                    failed_before: bool) -> list[str]:
    """tests.coverage against coverage_min; the reasons it failed (none when it passed)."""
    coverage, files = _line_rates(cov_xml, ctx.workspace)
    if coverage is None:
        # After failing tests (pytest stopped at collection) that is their consequence.
        status = Status.FAILED if failed_before else Status.ERROR
        detail = f"{cov_xml.name} missing or unreadable"
        result.checks.append(Check("tests.coverage", status, detail))
        return [f"no readable {cov_xml.name}"]
    minimum = ctx.config.coverage_min
    result.summary["coverage_percent"] = round(coverage, 2)
    result.summary["coverage_min"] = minimum
    if coverage < minimum:
        least = listing([f"{name} {rate:.0f}%" for name, rate in files[:3]], 3)
        detail = f"coverage {coverage:.2f}% below the minimum {minimum:g}% (least covered: {least})"
        result.checks.append(Check("tests.coverage", Status.FAILED, detail))
        return [detail]
    detail = f"coverage {coverage:.2f}% >= {minimum:g}%"
    result.checks.append(Check("tests.coverage", Status.PASSED, detail))
    return []


def _cov_sources(ctx: StageContext) -> list[str]:
    """The project's own coverage source when it configures one, else the configured sources."""
    if _has_coverage_source(ctx.workspace):
        return ["--cov"]
    return [f"--cov={s}" for s in ctx.config.sources]


def _has_coverage_source(workspace: Path) -> bool:
    pyproject = workspace / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError:
            return False
        run = data.get("tool", {}).get("coverage", {}).get("run", {})
        if run.get("source") or run.get("source_pkgs"):
            return True
    rc = workspace / ".coveragerc"
    return rc.is_file() and "source" in rc.read_text(encoding="utf-8")


def _line_rates(path: Path, workspace: Path) -> tuple[float | None, list[tuple[str, float]]]:
    """Total line coverage in percent, and each file's, least covered first."""
    try:
        root = ET.parse(path).getroot()  # nosec B314 - a local report coverage just wrote
        total = float(root.get("line-rate", "")) * 100.0
    except (OSError, ET.ParseError, ValueError):
        return None, []
    sources = [Path(s.text) for s in root.iter("source") if s.text]
    files: list[tuple[str, float]] = []
    for cls in root.iter("class"):
        name = cls.get("filename", "")
        for source in sources:
            candidate = source / name
            if candidate.is_file():
                try:
                    name = str(candidate.resolve().relative_to(workspace.resolve()))
                except ValueError:
                    name = str(candidate)
                break
        try:
            files.append((name, float(cls.get("line-rate", "0")) * 100.0))
        except ValueError:
            continue
    return total, sorted(files, key=lambda item: (item[1], item[0]))
