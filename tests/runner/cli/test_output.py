"""Summary lines and plain progress output."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from finsig_runner.cli.output import PlainOutput, make_output, summary_line

from tests.support.fake_stages import FakeStage, registry

pytestmark = pytest.mark.timeout(60)


def test_summary_line_shape() -> None:
    line = summary_line("tests", "PASSED", 3.21)
    assert re.fullmatch(r"tests \.{23} PASSED    3\.2s", line)
    assert len(summary_line("security", "FAILED", 12.0)) == len(summary_line("tests", "PASSED", 1))


def test_plain_output_for_a_run(tmp_path: Path) -> None:
    from finsig_runner.core.config import RunnerConfig
    from finsig_runner.engine.run import Engine
    from finsig_runner.core.model import Status
    from finsig_runner.engine.plan import build_plan

    stream = io.StringIO()
    assert isinstance(make_output(stream), PlainOutput)
    reg = registry(FakeStage("tests", status=Status.FAILED, reason="2 tests failed"),
                   FakeStage("lint"))
    Engine(reg, tmp_path, RunnerConfig(), observer=PlainOutput(stream),
           handle_signals=False).run(build_plan(reg))
    text = stream.getvalue()
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z tests: started$", text, re.M)
    assert re.search(r"^tests \.+ FAILED +\d+\.\ds$", text, re.M)
    assert "    2 tests failed" in text
    assert re.search(r"^lint \.+ PASSED", text, re.M)
    assert f"reports:       {tmp_path / 'reports'}" in text
    assert re.search(r"^run \S+: FAILED in \d+\.\ds \(exit 1\)$", text, re.M)


def test_live_output_on_a_terminal(tmp_path: Path) -> None:
    from rich.console import Console

    from finsig_runner.core.config import RunnerConfig
    from finsig_runner.engine.run import Engine
    from finsig_runner.cli.output import LiveOutput
    from finsig_runner.engine.plan import build_plan

    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    reg = registry(FakeStage("tests"), FakeStage("lint"))
    Engine(reg, tmp_path, RunnerConfig(), observer=LiveOutput(console),
           handle_signals=False).run(build_plan(reg))
    text = stream.getvalue()
    assert re.search(r"tests \.+ PASSED", text)
    assert re.search(r"run \S+: PASSED in", text)


def test_plain_output_shows_the_project_environment_step(tmp_path: Path) -> None:
    from finsig_runner.core.config import RunnerConfig
    from finsig_runner.engine.run import Engine
    from finsig_runner.engine.plan import build_plan

    from tests.support.fake_stages import fake_env

    stream = io.StringIO()
    reg = registry(FakeStage("tests", uses_project_env=True))
    Engine(reg, tmp_path, RunnerConfig(), observer=PlainOutput(stream), handle_signals=False,
           prepare_env=fake_env(tmp_path)).run(build_plan(reg))
    text = stream.getvalue()
    assert re.search(r"Z project-env: started$", text, re.M)
    assert re.search(r"Z project-env: PASSED \d+\.\ds$", text, re.M)
    assert text.index("project-env: PASSED") < text.index("tests: started")
