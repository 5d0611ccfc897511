"""The runner image run exactly as users run it: over a fixture project, a failing one, an
interrupted one, and a clean clone of this repository (the whole pipeline, once per session).

Durations measured on 2 cores shared with other work (docs/runner-image.md): the fixture run
66-77 s (shared by three tests), the failing one 45-54 s, SIGTERM 31-58 s, the clone's whole
pipeline 139-211 s (shared); the module about 5 minutes.
"""

from __future__ import annotations

import subprocess  # nosec B404 - the tests drive the docker CLI
import sys
import threading
import time
import uuid

import pytest

from finsig_runner.core import signing

from tests.runner_image.conftest import (
    IMAGE,
    OWNER,
    RUN_ID,
    SOCKET,
    ImageRun,
    docker_run_argv,
    leftovers,
    new_fixture,
    remove,
    require_image,
    run_image,
)

pytestmark = [pytest.mark.docker, pytest.mark.pipeline]


def _last_line(run: ImageRun) -> str:
    lines = [line for line in run.output.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.mark.timeout(900)
def test_fixture_project_passes(fixture_run: ImageRun) -> None:
    assert fixture_run.exit_code == 0, fixture_run.output[-4000:]
    assert "PASSED" in _last_line(fixture_run)
    assert fixture_run.validation()["status"] == "PASSED"
    assert leftovers(fixture_run.run_id) == []


@pytest.mark.timeout(900)
def test_everything_written_is_owned_by_the_workspace_owner(fixture_run: ImageRun) -> None:
    written = [
        path
        for top in ("reports", "artifacts", ".finsig-runner")
        for path in [fixture_run.workspace / top, *(fixture_run.workspace / top).rglob("*")]
        if path.exists() or path.is_symlink()
    ]
    assert len(written) > 10
    wrong = [f"{p} ({p.lstat().st_uid}:{p.lstat().st_gid})" for p in written
             if (p.lstat().st_uid, p.lstat().st_gid) != (OWNER, OWNER)]
    assert wrong == []


@pytest.mark.timeout(900)
def test_no_default_route_inside_the_runner(fixture_run: ImageRun) -> None:
    # The fixture's own test copied /proc/net/route, read inside the runner during the run.
    table = (fixture_run.workspace / "reports" / "route-table.txt").read_text()
    rows = [line.split() for line in table.splitlines()[1:] if line.strip()]
    assert rows, "no route at all: the runner was not on the run's network"
    assert [r for r in rows if r[1] == "00000000"] == [], table
    network = f"network: finsig-run-{fixture_run.run_id.lower()} (internal"
    assert network in fixture_run.output
    assert "entrypoint; left bridge" in fixture_run.output


@pytest.mark.timeout(900)
def test_failing_test_fails_the_run(tmp_path_factory: pytest.TempPathFactory) -> None:
    require_image()
    workspace = new_fixture(tmp_path_factory, "failing", failing=True)
    try:
        run = run_image(workspace, timeout=900)
        assert run.exit_code == 1, run.output[-4000:]
        assert "FAILED" in _last_line(run)
        assert run.validation()["status"] == "FAILED"
        assert leftovers(run.run_id) == []
    finally:
        remove(workspace)


@pytest.mark.timeout(600)
def test_sigterm_interrupts_the_run_and_leaves_nothing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    require_image()
    workspace = new_fixture(tmp_path_factory, "slow", slow=True)
    name = f"finsig-runner-sigterm-{uuid.uuid4().hex[:8]}"
    proc = subprocess.Popen(docker_run_argv(workspace, name=name), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    started = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "tests: started" in line:
                started.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert started.wait(400), "".join(lines)[-4000:]
        time.sleep(3)  # pytest (sleeping 300 s in the fixture's test) is running now
        subprocess.run(["docker", "kill", "--signal", "TERM", name], check=True,
                       capture_output=True, timeout=30)
        code = proc.wait(timeout=120)
        reader.join(timeout=10)
        output = "".join(lines)
        assert code == 130, output[-4000:]
        assert "INTERRUPTED" in output
        match = RUN_ID.search(output)
        assert match, output[-4000:]
        assert leftovers(match.group(1)) == []
        gone = subprocess.run(["docker", "container", "inspect", name], capture_output=True)
        assert gone.returncode != 0  # --rm: the runner container itself is gone too
    finally:
        if proc.poll() is None:
            subprocess.run(["docker", "rm", "--force", name], capture_output=True)
            proc.wait(timeout=60)
        remove(workspace)


@pytest.mark.timeout(2700)
def test_clean_clone_of_this_repository_passes(clone_run: ImageRun) -> None:
    assert clone_run.exit_code == 0, clone_run.output[-6000:]
    assert "PASSED" in _last_line(clone_run)
    validation = clone_run.validation()
    assert validation["status"] == "PASSED"
    assert validation["partial"] is False
    # Every stage this version registers ran and PASSED over the repository itself (the report
    # lists the stages before `validate`, which writes it and whose verdict is `status`).
    from finsig_runner.stages.registry import STAGES

    stages = validation["stages"]
    assert isinstance(stages, list)
    assert {s["name"]: s["status"] for s in stages} == {
        name: "PASSED" for name in STAGES if name != "validate"}
    assert "validate" in STAGES
    assert leftovers(clone_run.run_id) == []


def test_a_container_of_its_own_seals_the_finished_run(
        fixture_run: ImageRun, run_keys: signing.KeyPairFiles) -> None:
    """As scripts/pipeline.sh does with a key: the run only named the signer; after its
    container exited, another one (the key mounted read-only, no network) seals it."""
    assert fixture_run.validation()["signing"] == {
        "expected_signer": run_keys.fingerprint, "reason": "", "allow_unsigned_jobs": False}
    sealed = subprocess.run(
        ["docker", "run", "--rm", "--network", "none",
         "--volume", f"{fixture_run.workspace}:/workspace",
         "--volume", f"{SOCKET}:{SOCKET}",
         "--volume", f"{run_keys.private}:/key/finsig-signing.key:ro",
         IMAGE, "seal", "/workspace", "--key", "/key/finsig-signing.key"],
        capture_output=True, text=True, timeout=120)
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    verified = subprocess.run(
        [sys.executable, "-m", "finsig_runner", "verify", str(fixture_run.workspace),
         "--pubkey", str(run_keys.public)], capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout
    assert f"sealed by {run_keys.fingerprint}" in verified.stdout


@pytest.mark.timeout(60)
def test_image_is_at_most_550_mb() -> None:
    require_image()
    size = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", IMAGE],
                          capture_output=True, text=True, check=True).stdout
    assert int(size) <= 550 * 1000 * 1000
