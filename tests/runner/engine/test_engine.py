"""The engine over fake stages: order, parallelism, propagation, always-run, env step, evidence."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from finsig_runner.core.context import StageContext
from finsig_runner.core.errors import ProjectEnvError
from finsig_runner.core.events import verify_chain
from finsig_runner.core.model import FileDigest, ReportFragment, RunStatus, StageResult, Status

from tests.support.fake_stages import FakeStage, Recorder, events, fake_env, run

pytestmark = pytest.mark.timeout(60)


def test_prerequisites_run_first_and_results_follow_plan_order(tmp_path: Path) -> None:
    rec = Recorder()
    out = run(
        tmp_path,
        FakeStage("image", requires=("build",), recorder=rec),
        FakeStage("build", recorder=rec),
        FakeStage("tests", recorder=rec),
        jobs=1,
    )
    assert list(out.results) == ["build", "image", "tests"]  # registry order, prerequisites first
    assert rec.index("end build") < rec.index("start image")
    assert out.status == "PASSED" and out.exit_code == 0


def test_independent_stages_overlap(tmp_path: Path) -> None:
    rec = Recorder()
    barrier = threading.Barrier(2, timeout=20)

    def meet(ctx: StageContext) -> None:
        barrier.wait()  # only returns when the other stage is running at the same time

    out = run(
        tmp_path,
        FakeStage("tests", action=meet, recorder=rec),
        FakeStage("lint", action=meet, recorder=rec),
        jobs=2,
    )
    assert {r.status for r in out.results.values()} == {Status.PASSED}
    assert rec.index("start tests") < rec.index("end lint")
    assert rec.index("start lint") < rec.index("end tests")


def test_jobs_one_runs_one_at_a_time(tmp_path: Path) -> None:
    rec = Recorder()
    run(tmp_path, FakeStage("tests", recorder=rec), FakeStage("lint", recorder=rec), jobs=1)
    assert rec.marks == ["start tests", "end tests", "start lint", "end lint"]


@pytest.mark.parametrize("bad", [Status.FAILED, Status.ERROR])
def test_failed_or_error_prerequisite_aborts_dependents_transitively(
    tmp_path: Path, bad: Status
) -> None:
    out = run(
        tmp_path,
        FakeStage("build", status=bad),
        FakeStage("image", requires=("build",)),
        FakeStage("staging", requires=("image",)),
        FakeStage("lint"),
    )
    assert out.results["image"].status is Status.ABORTED
    assert out.results["image"].reason == f"prerequisite build {bad.value}"
    assert out.results["staging"].status is Status.ABORTED
    assert out.results["lint"].status is Status.PASSED


def test_skipped_prerequisite_skips_dependents(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        FakeStage("image", status=Status.SKIPPED, reason="no Dockerfile.app"),
        FakeStage("staging", requires=("image",)),
    )
    assert out.results["staging"].status is Status.SKIPPED
    assert "no Dockerfile.app" in out.results["staging"].reason
    assert out.exit_code == 0


def test_always_stage_runs_after_failures(tmp_path: Path) -> None:
    validate = FakeStage("validate", requires=("tests", "build"), always=True)
    out = run(tmp_path, FakeStage("tests", status=Status.FAILED), FakeStage("build"), validate)
    assert out.results["validate"].status is Status.PASSED
    assert len(validate.seen) == 1
    assert out.exit_code == 1


def test_stage_that_raises_is_error_and_the_run_goes_on(tmp_path: Path) -> None:
    def boom(ctx: StageContext) -> None:
        raise ValueError("disk on fire")

    out = run(tmp_path, FakeStage("tests", action=boom), FakeStage("lint"))
    assert out.results["tests"].status is Status.ERROR
    assert "ValueError: disk on fire" in out.results["tests"].reason
    assert out.results["lint"].status is Status.PASSED
    assert "disk on fire" in (tmp_path / "reports" / "logs" / "tests.log").read_text()
    assert out.exit_code == 3


@pytest.mark.parametrize(
    ("statuses", "code", "outcome"),
    [
        ((Status.PASSED, Status.PASSED), 0, "PASSED"),
        ((Status.PASSED, Status.SKIPPED), 0, "PASSED"),
        ((Status.FAILED, Status.PASSED), 1, "FAILED"),
        ((Status.ERROR, Status.PASSED), 3, "ERROR"),
        ((Status.ERROR, Status.FAILED), 3, "ERROR"),
    ],
)
def test_exit_codes(
    tmp_path: Path, statuses: tuple[Status, Status], code: int, outcome: str
) -> None:
    out = run(tmp_path, FakeStage("tests", status=statuses[0]),
              FakeStage("lint", status=statuses[1]))
    assert (out.exit_code, out.stages_status, out.status) == (code, RunStatus(outcome),
                                                              RunStatus(outcome))


def test_project_env_made_once_only_when_needed(tmp_path: Path) -> None:
    calls: list[str] = []
    tests = FakeStage("tests", uses_project_env=True)
    typing = FakeStage("typing", uses_project_env=True)
    out = run(tmp_path, tests, typing, FakeStage("lint"), jobs=3,
              prepare_env=fake_env(tmp_path / "v" / "bin", calls))
    assert calls == ["project-env"]
    assert tests.seen[0].project_bin == tmp_path / "v" / "bin"
    assert out.exit_code == 0
    env_events = [e for e in events(tmp_path) if e["event"] == "project_env"]
    assert [e["phase"] for e in env_events] == ["start", "end"]

    calls.clear()
    run(tmp_path, FakeStage("lint"), prepare_env=fake_env(tmp_path, calls))
    assert calls == []


def test_project_env_failure_makes_its_stages_error_and_dependents_aborted(tmp_path: Path) -> None:
    def broken(ctx: StageContext) -> Path:
        raise ProjectEnvError("no wheel for requests==2.2.0 in the wheelhouse")

    tests = FakeStage("tests", uses_project_env=True)
    out = run(tmp_path, tests, FakeStage("lint"), FakeStage("report", requires=("tests",)),
              prepare_env=broken)
    assert out.results["tests"].status is Status.ERROR
    assert "requests==2.2.0" in out.results["tests"].reason
    assert out.results["report"].status is Status.ABORTED
    assert out.results["lint"].status is Status.PASSED
    assert tests.seen == []  # never ran without its environment
    assert out.exit_code == 3


def test_evidence_results_and_chain(tmp_path: Path) -> None:
    out = run(tmp_path, FakeStage("build", outputs={"artifacts/pkg.whl": b"wheel"}))
    result = json.loads((tmp_path / "reports" / "stages" / "build.json").read_text())
    assert result["status"] == "PASSED" and result["outputs"][0]["path"] == "artifacts/pkg.whl"
    evs = events(tmp_path)
    kinds = [e["event"] for e in evs]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end"
    assert kinds.index("stage_start") < kinds.index("stage_end")
    artifacts = {e["path"]: e for e in evs if e["event"] == "artifact"}
    assert artifacts["artifacts/pkg.whl"]["size"] == 5
    assert artifacts["artifacts/pkg.whl"]["stage"] == "build"
    assert "reports/stages/build.json" in artifacts
    assert all(str(e["ts"]).endswith("Z") for e in evs)
    assert verify_chain(out.event_log).chain_hash == out.chain_hash
    assert evs[-1]["status"] == "PASSED" and evs[-1]["exit_code"] == 0


def test_each_run_starts_empty_and_previous_is_set_aside(tmp_path: Path) -> None:
    run(tmp_path, FakeStage("build", outputs={"artifacts/old.whl": b"old"}))
    second = run(tmp_path, FakeStage("build", outputs={"artifacts/new.whl": b"new"}))
    assert not (tmp_path / "artifacts" / "old.whl").exists()
    assert second.previous is not None
    assert (second.previous / "artifacts" / "old.whl").read_bytes() == b"old"
    third = run(tmp_path, FakeStage("build"))
    kept = list((tmp_path / ".finsig-runner" / "previous").iterdir())
    assert kept == [third.previous]  # keep_previous = 1 by default


def test_lint_report_assembled_from_both_reports(tmp_path: Path) -> None:
    out = run(
        tmp_path,
        FakeStage("lint", outputs={"reports/flake8-report.txt": b"src/a.py:1:1: F401 unused\n"},
                  fragments=(ReportFragment("reports/lint-report.txt", "flake8",
                                            "reports/flake8-report.txt"),)),
        FakeStage("typing", outputs={"reports/mypy-report.txt": b"src/a.py:2: error: bad\n"},
                  fragments=(ReportFragment("reports/lint-report.txt", "mypy",
                                            "reports/mypy-report.txt"),)),
        jobs=2,
    )
    text = (tmp_path / "reports" / "lint-report.txt").read_text()
    assert text.index("flake8") < text.index("F401") < text.index("mypy") < text.index("error: bad")
    paths = [e["path"] for e in events(tmp_path) if e["event"] == "artifact"]
    assert "reports/lint-report.txt" in paths
    assert out.exit_code == 0


def test_stages_without_the_environment_run_while_it_is_made(tmp_path: Path) -> None:
    barrier = threading.Barrier(2, timeout=20)

    def slow_env(ctx: StageContext) -> Path:
        barrier.wait()  # returns only if `build` runs while the environment is being made
        return tmp_path / "v" / "bin"

    def meet(ctx: StageContext) -> None:
        barrier.wait()

    out = run(
        tmp_path,
        FakeStage("tests", uses_project_env=True),
        FakeStage("typing", uses_project_env=True),
        FakeStage("build", action=meet),
        jobs=2,
        prepare_env=slow_env,
    )
    assert {n: r.status for n, r in out.results.items()} == {
        "tests": Status.PASSED, "typing": Status.PASSED, "build": Status.PASSED}


def test_a_broken_previous_log_does_not_stop_the_next_run(tmp_path: Path) -> None:
    run(tmp_path, FakeStage("lint"))
    log = tmp_path / "artifacts" / "ci_cd_events.log"
    log.write_bytes(log.read_bytes()[:-5])
    out = run(tmp_path, FakeStage("lint"))
    assert out.exit_code == 0 and verify_chain(out.event_log).lines > 0


def test_an_output_rewritten_after_its_stage_ended_fails_the_run_naming_it(
        tmp_path: Path) -> None:
    """Two stages share a uid: one rewriting the other's recorded output is caught at the end."""
    def tamper(ctx: StageContext) -> None:
        (ctx.reports / "lint.txt").write_text("clean, honestly\n")

    out = run(tmp_path, FakeStage("lint", outputs={"reports/lint.txt": b"3 findings\n"}),
              FakeStage("tests", requires=("lint",), action=tamper))
    assert out.exit_code == 1 and out.status is RunStatus.FAILED
    end = events(tmp_path)[-1]
    assert end["event"] == "run_end" and end["integrity"] == ["reports/lint.txt"]


def test_a_report_changed_between_the_writer_and_the_stage_end_fails_the_stage(
        tmp_path: Path) -> None:
    def write_then_change(ctx: StageContext) -> None:
        ctx.writer.text(ctx.reports / "lint.txt", "3 findings\n")
        (ctx.reports / "lint.txt").write_text("0 findings\n")  # as a parallel stage could

    class Writing(FakeStage):
        def run(self, ctx: StageContext) -> StageResult:
            write_then_change(ctx)
            path = ctx.reports / "lint.txt"
            return StageResult(self.name, Status.PASSED,
                               outputs=(FileDigest.of(path, ctx.workspace),))

    out = run(tmp_path, Writing("lint"))
    result = out.results["lint"]
    assert result.status is Status.FAILED and "reports/lint.txt changed after" in result.reason
    assert out.exit_code == 1
