"""The fault catalogue: each fault injected into a fresh copy of this repository, the pipeline run
over it, and what happened compared with what the documentation says should.

    .venv/bin/python -m drills faults [--only NAME,...] [--fresh] [--seed N]

Where each runs: "image" is the runner image started exactly as scripts/pipeline.sh starts it
(drills/pipeline.py); "host" is `finsig-runner` in this checkout's .venv, for what an auditor or an
operator runs afterwards (verify, verify-log, clean, bundle verify). A fault is *caught* when every
expectation holds and nothing of its run is left in Docker; anything else is a finding, recorded
as observed. After the observation the drill removes whatever was left (the sweep), so that one
fault never disturbs the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drills import fault_actions as act
from drills import fault_plants as plant
from drills import tamper
from drills.context import Context
from drills.expect import ANY, Expect
from drills.pipeline import Step
from drills.project import Copy

IMAGE = "image"
HOST = "host"
Plant = Callable[[Context], list[str]]  # edits the copy; returns extra runner arguments


@dataclass(frozen=True)
class Fault:
    name: str
    cause: str
    where: str  # IMAGE, HOST, or IMAGE plus what runs on the host afterwards
    expect: tuple[Expect, ...]
    plant: Plant | None = None
    args: tuple[str, ...] = ()
    during: Callable[[Context], None] | None = None
    after: Callable[[Context], list[Step]] | None = None
    socket: bool = True
    tmpfs: str | None = None
    pipeline: bool = True
    control: bool = False  # not a fault: the copy as committed, which must pass
    timeout: float = 1500.0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "cause": self.cause, "where": self.where,
                "args": list(self.args), "control": self.control,
                "expect": [e.describe() for e in self.expect]}


def edit(change: Callable[[Copy], object]) -> Plant:
    def planted(ctx: Context) -> list[str]:
        change(Copy(ctx.workspace))
        return []
    return planted


def _vulnerable_pin(ctx: Context) -> list[str]:
    return ["--set", f"wheelhouse={plant.vulnerable_pin(Copy(ctx.workspace))}"]


def _signed_lint_failure(ctx: Context) -> list[str]:
    plant.flake8_error(Copy(ctx.workspace))
    return ["--stages", "lint", "--set", tamper.signing_key(ctx)]


def _run(stage: str, status: str, code: int, message: str) -> tuple[Expect, ...]:
    return (Expect("run", stage, status, code, message),)


CATALOGUE: tuple[Fault, ...] = (
    Fault("control", "none: the copy as committed", IMAGE,
          (Expect("run", None, "PASSED", 0, r"PASSED in [\d.]+s \(exit 0\)"),), control=True),
    Fault("failing-test", "tests/app/test_drill_failing.py asserts 1 + 1 == 3", IMAGE,
          _run("tests", "FAILED", 1, r"test_drill_failing"), edit(plant.failing_test)),
    Fault("hanging-test", "a test that waits forever; --set tool_timeout=60", IMAGE,
          _run("tests", "ERROR", 3, r"(?i)timed out"), edit(plant.hanging_test),
          args=("--set", "tool_timeout=60")),
    Fault("flake8-error", "src/finsig/problems.py gains `drill_planted=1` (E225)", IMAGE,
          _run("lint", "FAILED", 1, r"problems\.py:\d+"), edit(plant.flake8_error)),
    Fault("mypy-error", "src/finsig/signals.py: a function declared int returns a str", IMAGE,
          _run("typing", "FAILED", 1, r"signals\.py:\d+"), edit(plant.mypy_error)),
    Fault("bandit-high", "src/finsig/drill_shell.py calls subprocess with shell=True", IMAGE,
          _run("security", "FAILED", 1, r"B602"), edit(plant.bandit_high)),
    Fault("vulnerable-pin", "requirements/core.txt pins pip==23.0.1 (PYSEC-2023-228), its "
          "wheel in the run's wheelhouse", IMAGE,
          _run("security", "FAILED", 1, r"pip==23\.0\.1"), _vulnerable_pin),
    Fault("irreproducible-build", "a hatchling build hook writes the build time into the "
          "wheel", IMAGE, _run("build", "FAILED", 1, r"\.whl differs"),
          edit(plant.irreproducible_build)),
    Fault("broken-dockerfile", "Dockerfile.app copies a file the context does not have", IMAGE,
          _run("image", "FAILED", 1, r"no-such-file-drill"), edit(plant.broken_dockerfile)),
    Fault("app-never-healthy", "staging's app has a wrong database password: /readyz stays "
          "503", IMAGE, _run("staging", "FAILED", 1, r"(?i)\bapp\b.*(unhealthy|not healthy)"),
          edit(plant.app_never_healthy)),
    Fault("app-crashes", "the app process exits (code 1) 5 s after it starts, in staging",
          IMAGE, _run("staging", "FAILED", 1, r"(?i)\bapp\b.*(exit|crash)"),
          edit(plant.app_crashes)),
    Fault("postgres-down-at-start", "staging's PostgreSQL refuses to start (an unknown "
          "setting)", IMAGE,
          _run("staging", "FAILED", 1, r"(?i)postgres\b.*(exit|drill_no_such_setting|unrecog)"),
          edit(plant.postgres_down_at_start)),
    Fault("postgres-killed", "staging's PostgreSQL SIGKILLed (docker kill) once the app is "
          "healthy", IMAGE, _run("staging", "FAILED", 1, r"(?i)postgres"),
          during=act.kill_postgres_mid_staging),
    Fault("rule-syntax-error", "monitoring/alert_rules.yml: a line with broken YAML", IMAGE,
          _run("monitoring", "FAILED", 1, r"alert_rules\.yml"), edit(plant.rule_syntax_error)),
    Fault("alert-never-fires", "AppDown's expression can never be true (its promtool firing "
          "test taken out)", IMAGE, _run("staging", "FAILED", 1, r"AppDown"),
          edit(plant.alert_never_fires)),
    Fault("report-tampered", "reports/security-report.json rewritten after `security` ended",
          f"{IMAGE}; verify on the {HOST}", tamper.TAMPER_EXPECTATIONS["report-tampered"],
          during=tamper.tamper_report_after_security, after=tamper.report_checks),
    Fault("event-log-tampered", "signed `--stages lint` run with a flake8 error; lint's "
          "stage_end edited to PASSED", f"{IMAGE}; verify-log and verify on the {HOST}",
          tamper.TAMPER_EXPECTATIONS["event-log-tampered"], _signed_lint_failure,
          after=tamper.tampered_log_checks),
    Fault("event-log-forged", "as event-log-tampered, every later `prev` recomputed",
          f"{IMAGE}; verify-log and verify on the {HOST}",
          tamper.TAMPER_EXPECTATIONS["event-log-forged"], _signed_lint_failure,
          after=tamper.forged_log_checks),
    Fault("bundle-tampered", "one byte of images.tar flipped in a signed bundle", HOST,
          tamper.TAMPER_EXPECTATIONS["bundle-tampered"], after=tamper.tampered_bundle,
          pipeline=False),
    Fault("no-docker-socket", "the runner image started without the Docker socket mounted",
          IMAGE, (Expect("run", None, "no event log", 3, r"(?i)docker (engine|socket)"),),
          socket=False),
    Fault("disk-full", "the workspace is a 300 MB tmpfs: full while the image tar is written",
          IMAGE, _run("image", "ERROR", 3, r"No space left on device"), tmpfs="300m"),
    Fault("sigint-random", "SIGINT to the docker client at a seeded random moment (5-100 s)",
          IMAGE, (Expect("run", ANY, "ABORTED", 130, r"(?i)interrupt"),
                  Expect("run", None, "INTERRUPTED", 130, r"(?i)interrupt")),
          during=act.sigint_at_random),
    Fault("sigkill-clean", "docker kill --signal KILL of the runner once staging is up, then "
          "`finsig-runner clean --run ID`", f"{IMAGE}; clean on the {HOST}",
          (Expect("run", None, ANY, 137, r"."), Expect("clean", None, "OK", 0, r"removed\s+run")),
          during=act.sigkill_in_staging, after=act.clean_after_kill),
)

FAULTS = {fault.name: fault for fault in CATALOGUE}
