"""The command line: subcommands, exit codes, dry run, list, verify-log, last-resort handler."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

import pytest

from finsig_runner import __version__
from finsig_runner.cli import main as cli  # the module
from finsig_runner.cli.commands import run as run_cmd
from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.context import StageContext
from finsig_runner.core.model import Stage, Status

from tests.support.fake_stages import FakeStage, registry

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def stages(monkeypatch: pytest.MonkeyPatch) -> dict[str, FakeStage]:
    fakes = {
        "tests": FakeStage("tests", checks=("tests.junit", "tests.coverage")),
        "lint": FakeStage("lint", checks=("lint.flake8",)),
        "build": FakeStage("build", outputs={"artifacts/pkg.whl": b"w"}),
        "image": FakeStage("image", requires=("build",)),
    }
    reg: Mapping[str, Stage] = registry(*fakes.values())
    monkeypatch.setattr(run_cmd, "registry", lambda config: reg)
    monkeypatch.setattr("finsig_runner.stages.registry.stages_for", lambda config: reg)
    return fakes


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_every_listed_command_registers() -> None:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {"run", "list", "verify-log"} <= set(sub.choices)


@pytest.mark.parametrize(
    ("status", "code"), [(Status.PASSED, 0), (Status.FAILED, 1), (Status.ERROR, 3)]
)
def test_run_exit_codes(
    tmp_path: Path, stages: dict[str, FakeStage], status: Status, code: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stages["lint"].status = status
    assert cli.main(["run", "--workspace", str(tmp_path), "--jobs", "2"]) == code
    out = capsys.readouterr().out
    assert f"lint {'.' * 24} {status.value:<8}" in out
    assert f"(exit {code})" in out


def test_stages_selects_prerequisites(tmp_path: Path, stages: dict[str, FakeStage]) -> None:
    assert cli.main(["run", "--workspace", str(tmp_path), "--stages", "image"]) == 0
    assert len(stages["build"].seen) == 1 and stages["tests"].seen == []
    text = (tmp_path / "artifacts" / "ci_cd_events.log").read_text()
    assert '"status":"PARTIAL"' in text


def test_dry_run_runs_nothing(
    tmp_path: Path, stages: dict[str, FakeStage], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "reports").mkdir()
    assert cli.main(["run", "--workspace", str(tmp_path), "--dry-run", "--stages", "image"]) == 0
    out = capsys.readouterr().out
    assert "build" in out and "image after build" in out and "nothing was run" in out
    assert all(not s.seen for s in stages.values())
    assert not (tmp_path / "artifacts").exists()
    assert not (tmp_path / ".finsig-runner").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--stages", "nope"],
        ["--stages", "staging"],  # not in this registry
        ["--stages", ""],  # an empty CI variable
        ["--only", "lint", "--stages", "tests"],
        ["--set", "colour=red"],
        ["--jobs", "0"],
    ],
)
def test_usage_and_config_errors_exit_2(
    tmp_path: Path, stages: dict[str, FakeStage], argv: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code: str | int | None = None
    try:
        code = cli.main(["run", "--workspace", str(tmp_path), "--dry-run", *argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    assert code == 2
    assert all(not s.seen for s in stages.values())


def test_unknown_flag_exits_2(tmp_path: Path, stages: dict[str, FakeStage]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["run", "--workspace", str(tmp_path), "--colour"])
    assert caught.value.code == 2


def test_config_error_names_the_key(
    tmp_path: Path, stages: dict[str, FakeStage], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.finsig-runner]\ncoverage_min = 'lots'\n")
    assert cli.main(["run", "--workspace", str(tmp_path)]) == 2
    assert "coverage_min" in capsys.readouterr().err
    assert not (tmp_path / "artifacts").exists()


def test_env_override_reaches_the_stage(
    tmp_path: Path, stages: dict[str, FakeStage], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.finsig-runner]\ncoverage_min = 50\n")
    monkeypatch.setenv("FINSIG_RUNNER_COVERAGE_MIN", "60")
    assert cli.main(["run", "--workspace", str(tmp_path), "--stages", "lint"]) == 0
    assert stages["lint"].seen[0].config.coverage_min == 60.0
    assert cli.main(["run", "--workspace", str(tmp_path), "--stages", "lint",
                     "--set", "coverage_min=70"]) == 0
    assert stages["lint"].seen[1].config.coverage_min == 70.0


def test_list_prints_stages_dependencies_inputs_and_checks(
    tmp_path: Path, stages: dict[str, FakeStage], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["list", "--workspace", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tests.junit, tests.coverage" in out
    assert "requires: build" in out
    assert "config coverage_min" in out
    assert "staging" not in out  # only what the registry holds


def test_verify_log_exit_codes(
    tmp_path: Path, stages: dict[str, FakeStage], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run", "--workspace", str(tmp_path)]) == 0
    log = tmp_path / "artifacts" / "ci_cd_events.log"
    assert cli.main(["verify-log", str(log)]) == 0
    lines = log.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"stage":', b'"stage" :', 1)
    log.write_bytes(b"".join(lines))
    capsys.readouterr()
    assert cli.main(["verify-log", str(log)]) == 1
    assert "line 2" in capsys.readouterr().err
    assert cli.main(["verify-log", str(tmp_path / "nope.log")]) == 2


def test_unexpected_exception_exits_3_with_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(config: RunnerConfig) -> Mapping[str, Stage]:
        raise RuntimeError("registry exploded")

    monkeypatch.setattr(run_cmd, "registry", explode)
    assert cli.main(["run", "--workspace", str(tmp_path)]) == 3
    crash = tmp_path / "reports" / "logs" / "crash.log"
    assert "registry exploded" in crash.read_text()
    assert str(crash) in capsys.readouterr().err


def test_keyboard_interrupt_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(config: RunnerConfig) -> Mapping[str, Stage]:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cmd, "registry", interrupted)
    assert cli.main(["run", "--workspace", str(tmp_path)]) == 130


def test_real_tool_output_goes_to_the_stage_log(
    tmp_path: Path, stages: dict[str, FakeStage]
) -> None:
    def tool(ctx: StageContext) -> None:
        ctx.run_tool(["echo", "hello from the tool"])

    stages["lint"].action = tool
    assert cli.main(["run", "--workspace", str(tmp_path), "--stages", "lint"]) == 0
    assert "hello from the tool" in (tmp_path / "reports" / "logs" / "lint.log").read_text()


def test_nothing_to_run_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_cmd, "registry", lambda config: {})
    assert cli.main(["run", "--workspace", str(tmp_path)]) == 2
    assert not (tmp_path / "artifacts").exists()
