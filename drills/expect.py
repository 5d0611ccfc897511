"""What a fault should do, and the judgement of what it did.

An expectation names the step that must notice the fault (the pipeline run, or a command run
after it such as `verify`), the stage and the status it must end with, the exit code, and a
regular expression the message must match (the stage's reason, or the command's output). They
are written from the documentation (docs/runner.md: statuses and exit codes) before the drill
runs; an observation that differs is a finding about the product, never a reason to change them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from drills.pipeline import Step

ANY = "*"
MESSAGE_CHARS = 300


@dataclass(frozen=True)
class Expect:
    step: str  # the Step.name that must notice: "run", "verify", "verify-log", "clean", ...
    # A stage of a run step (ANY: whichever stage has `status`), or None: the step as a whole,
    # whose status is the log's run_end status for a run and OK/FAILED (exit 0 or not) otherwise.
    stage: str | None
    status: str  # ANY: not judged
    exit_code: int
    message: str  # a regular expression (re.search)

    def describe(self) -> str:
        where = self.step if self.stage is None else f"{self.step}: {self.stage}"
        return f"{where} {self.status}, exit {self.exit_code}, message /{self.message}/"


@dataclass(frozen=True)
class Judgement:
    expect: Expect
    found: bool  # the step ran
    status: str
    exit_code: int | None
    message: str
    status_ok: bool
    exit_ok: bool
    message_ok: bool

    @property
    def ok(self) -> bool:
        return self.found and self.status_ok and self.exit_ok and self.message_ok

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "expect": asdict(self.expect), "ok": self.ok}


def _whole_status(step: Step) -> str:
    if step.name == "run":
        return step.run_status
    if step.exit_code is None:
        return "TIMEOUT"
    return "OK" if step.exit_code == 0 else "FAILED"


def _excerpt(text: str, pattern: str) -> str:
    """The line the pattern matched in, else the last lines."""
    match = re.search(pattern, text)
    if match:
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        return text[start:end if end >= 0 else len(text)].strip()[:MESSAGE_CHARS]
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-3:])[-MESSAGE_CHARS:]


def _stage(step: Step, expect: Expect) -> tuple[str, str]:
    """The observed status and reason of the stage the expectation names."""
    if expect.stage != ANY:
        found = step.stages.get(str(expect.stage))
        return (found["status"], found["reason"]) if found else ("not run", "")
    candidates = [s for s in step.stages.values() if s["status"] == expect.status]
    for stage in candidates:
        if re.search(expect.message, stage["reason"]):
            return stage["status"], stage["reason"]
    if candidates:
        return candidates[0]["status"], candidates[0]["reason"]
    statuses = sorted({s["status"] for s in step.stages.values()})
    return ("none " + expect.status + " (" + ", ".join(statuses) + ")"), ""


def judge(expect: Expect, steps: Sequence[Step]) -> Judgement:
    step = next((s for s in steps if s.name == expect.step), None)
    if step is None:
        return Judgement(expect, False, "step not run", None, "", False, False, False)
    if expect.stage is None:
        status, text = _whole_status(step), step.output
    else:
        status, text = _stage(step, expect)
    return Judgement(
        expect, True, status, step.exit_code, _excerpt(text, expect.message),
        status_ok=expect.status == ANY or status == expect.status,
        exit_ok=step.exit_code == expect.exit_code,
        message_ok=re.search(expect.message, text) is not None,
    )
