"""Secrets (config `secret_env`): a canary value reaches no log, report or artifact."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from finsig_runner.core.context import StageContext
from finsig_runner.engine.run import Engine
from finsig_runner.core.redaction import Redactor
from finsig_runner.core.model import (
    Check,
    ReportFragment,
    Stage,
    StageInputs,
    StageResult,
    Status,
)
from finsig_runner.cli.output import make_output
from finsig_runner.engine.plan import build_plan
from finsig_runner.stages.registry import build_registry
from finsig_runner.stages.validate.stage import ValidateStage

from tests.support import evidence_set as es

pytestmark = pytest.mark.timeout(60)
CANARY = "canary-5f3a9c0e-never-written"


def test_redact_replaces_values_not_names() -> None:
    redactor = Redactor.from_env(["TOKEN", "SHORT", "UNSET"], {"TOKEN": CANARY, "SHORT": "on"})
    assert redactor.text(f"x {CANARY} y") == "x [redacted:TOKEN] y"
    assert redactor.text("turn it on") == "turn it on"  # too short to be a secret
    assert redactor.json({CANARY: [CANARY, 1]}) == {"[redacted:TOKEN]": ["[redacted:TOKEN]", 1]}


def test_scan_finds_a_value_across_a_chunk_boundary(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * ((1 << 20) - 5) + CANARY.encode() + b"y" * 10)
    assert Redactor({"TOKEN": CANARY}).scan([tmp_path]) == [(big, "TOKEN")]


@dataclass
class Chatty:
    """Runs a tool that prints the secret, and echoes its output into its result and a report."""

    name: str = "lint"
    checks: tuple[str, ...] = ("lint.flake8",)
    requires: tuple[str, ...] = ()
    always: bool = False
    uses_project_env: bool = False
    leak_raw: bool = False
    raw_reason: bool = False
    fragments: tuple[ReportFragment, ...] = ()
    runs_project_code: bool = False

    def inputs(self, ctx: StageContext) -> StageInputs:
        return StageInputs()

    def seal(self, ctx: StageContext) -> None:
        pass

    def run(self, ctx: StageContext) -> StageResult:
        done = ctx.run_tool([sys.executable, "-c",
                             "import os; print('the token is', os.environ['FINSIG_CANARY'])"])
        (ctx.reports / "lint-tool.txt").write_text(done.output)
        if self.leak_raw:  # a writer that bypasses redaction: validate must catch it
            (ctx.reports / "leak.txt").write_text(CANARY)
        reason = os.environ["FINSIG_CANARY"] if self.raw_reason else done.output.strip()
        return StageResult(self.name, Status.PASSED, reason=reason,
                           checks=(Check("lint.flake8", Status.PASSED, done.output.strip()),))


def _run(root: Path, leak: bool) -> None:
    fakes = [f for f in es.stages() if f.name != "lint"]
    out = es.run(root, [*fakes, Chatty(leak_raw=leak)],  # type: ignore[list-item]
                 es.config(secret_env=("FINSIG_CANARY",), tool_env=("FINSIG_CANARY",)))
    assert out.results["lint"].status is Status.PASSED


def _holding(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for sub in ("reports", "artifacts")
                  for p in (root / sub).rglob("*")
                  if p.is_file() and CANARY.encode() in p.read_bytes())


def test_the_canary_is_in_no_file_the_run_writes(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSIG_CANARY", CANARY)
    root = es.workspace(tmp_path / "ws")
    _run(root, leak=False)
    assert _holding(root) == []
    log = (root / "reports" / "logs" / "lint.log").read_text()
    assert "the token is [redacted:FINSIG_CANARY]" in log
    doc = json.loads((root / "artifacts" / "artifact-validation.json").read_text())
    assert doc["status"] == "PASSED"


def test_a_value_written_past_the_redaction_fails_the_run(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINSIG_CANARY", CANARY)
    root = es.workspace(tmp_path / "ws")
    _run(root, leak=True)
    doc = json.loads((root / "artifacts" / "artifact-validation.json").read_text())
    assert doc["status"] == "FAILED"
    failure = doc["verdict"]["failures"][0]
    assert failure["id"] == "validate.secrets" and "reports/leak.txt" in failure["reason"]
    assert _holding(root) == ["reports/leak.txt"]  # only the file that leaked, named, not copied


def test_the_console_lines_carry_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FINSIG_CANARY", CANARY)
    root = es.workspace(tmp_path / "ws")
    fakes = [f for f in es.stages() if f.name != "lint"]
    stages: list[Stage] = [*fakes, Chatty(raw_reason=True)]
    validate = replace(ValidateStage.after(stages), make_sboms=es.fake_sboms)
    reg = build_registry([*stages, validate])
    output = make_output(sys.stdout)
    engine = Engine(reg, root, es.config(secret_env=("FINSIG_CANARY",)), observer=output,
                    handle_signals=False)
    try:
        engine.run(build_plan(reg))
    finally:
        output.close()
    printed = capsys.readouterr()
    assert CANARY not in printed.out + printed.err
    assert "[redacted:FINSIG_CANARY]" in printed.out


HARD = 'c4n"ary\\\\ä/€ \'x-7f3e'  # quotes, backslashes, non-ASCII and a slash


@pytest.mark.parametrize("form", ["raw", "json", "json-ascii", "url", "url-plus", "b64-0",
                                  "b64-1", "b64-2", "urlsafe-b64-1"])
def test_every_encoded_form_of_a_secret_is_redacted(form: str) -> None:
    import base64
    from urllib.parse import quote, quote_plus

    raw = HARD.encode()
    encoded = {
        "raw": HARD, "json": json.dumps(HARD, ensure_ascii=False)[1:-1],
        "json-ascii": json.dumps(HARD)[1:-1], "url": quote(HARD, safe=""),
        "url-plus": quote_plus(HARD),
        "b64-0": base64.b64encode(raw).decode(), "b64-1": base64.b64encode(b"x" + raw).decode(),
        "b64-2": base64.b64encode(b"xy" + raw).decode(),
        "urlsafe-b64-1": base64.urlsafe_b64encode(b"x" + raw).decode(),
    }[form]
    redactor = Redactor({"TOKEN": HARD})
    text = f"before {encoded} after"
    assert "[redacted:TOKEN]" in redactor.text(text)
    assert redactor.find(text.encode()) == {"TOKEN"}


def test_a_secret_split_between_two_writes_is_still_caught(tmp_path: Path) -> None:
    from finsig_runner.core.redaction import RedactingStream

    redactor = Redactor({"TOKEN": HARD})
    data = f"line one\nthe value {HARD} ends here\n".encode()
    for cut in range(1, len(data)):
        sink = (tmp_path / f"log{cut}").open("wb")
        stream = RedactingStream(sink, redactor)
        stream.write(data[:cut])
        stream.write(data[cut:])
        stream.close()
        written = (tmp_path / f"log{cut}").read_bytes()
        assert HARD.encode() not in written and b"[redacted:TOKEN]" in written, cut


def test_a_tool_never_sees_a_variable_outside_the_allow_list(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from finsig_runner.core.config import RunnerConfig
    from finsig_runner.core.context import StageContext

    monkeypatch.setenv("FINSIG_CANARY", CANARY)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "x" * 36)
    (tmp_path / "reports").mkdir()
    ctx = StageContext.create(tmp_path, RunnerConfig(), "lint", "run-1")
    probe = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]
    done = ctx.run_tool(probe)
    seen = json.loads(done.output)
    assert "FINSIG_CANARY" not in seen and "GITHUB_TOKEN" not in seen
    assert seen["FINSIG_RUNNER_RUN"] == "run-1" and seen["FINSIG_RUNNER_STAGE"] == "run-1/lint"
    opted = StageContext.create(tmp_path, RunnerConfig(tool_env=("FINSIG_CANARY",)), "lint", "r")
    probe = [sys.executable, "-c", "import os; print(os.environ['FINSIG_CANARY'])"]
    assert CANARY in opted.run_tool(probe).output  # a name the project adds does pass
