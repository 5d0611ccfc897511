"""`--only` with `--from DIR`: prerequisites' outputs come from an earlier, verified run."""

from __future__ import annotations

from pathlib import Path

import pytest

from finsig_runner.core.context import StageContext
from finsig_runner.core.errors import FromDirError, UsageError
from finsig_runner.core.model import RunStatus, Status

from tests.support.fake_stages import FakeStage, events, run

pytestmark = pytest.mark.timeout(60)


def _stages(seen: list[bytes]) -> tuple[FakeStage, FakeStage]:
    def use_wheel(ctx: StageContext) -> None:
        seen.append((ctx.artifacts / "pkg.whl").read_bytes())

    build = FakeStage("build", outputs={"artifacts/pkg.whl": b"the wheel"})
    image = FakeStage("image", requires=("build",), action=use_wheel)
    return build, image


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    first = tmp_path / "job1"
    first.mkdir()
    build, image = _stages([])
    out = run(first, build, image, only=["build"])
    assert out.status is RunStatus.PARTIAL and out.stages_status is RunStatus.PASSED
    return first


def test_verified_chain_is_accepted_and_outputs_imported(tmp_path: Path, earlier: Path) -> None:
    seen: list[bytes] = []
    job2 = tmp_path / "job2"
    job2.mkdir()
    out = run(job2, *_stages(seen), only=["image"], from_dir=earlier)
    assert list(out.results) == ["image"]
    assert out.results["image"].status is Status.PASSED
    assert seen == [b"the wheel"]
    assert out.status == "PARTIAL" and out.exit_code == 0
    evs = events(job2)
    imports = [e for e in evs if e["event"] == "import"]
    assert imports[0]["stage"] == "build" and imports[0]["status"] == "PASSED"
    assert any(e["event"] == "artifact" and e.get("imported") for e in evs)
    assert evs[-1]["status"] == "PARTIAL"


def test_tampered_chain_is_refused(tmp_path: Path, earlier: Path) -> None:
    log = earlier / "artifacts" / "ci_cd_events.log"
    data = bytearray(log.read_bytes())
    data[data.index(b'"PASSED"') + 1] = ord("Q")  # PASSED -> QASSED: still valid JSON
    log.write_bytes(bytes(data))
    job2 = tmp_path / "job2"
    job2.mkdir()
    with pytest.raises(FromDirError, match="line"):
        run(job2, *_stages([]), only=["image"], from_dir=earlier)
    assert not (job2 / "artifacts").exists()  # refused before anything was touched


def test_missing_output_aborts_naming_it(tmp_path: Path, earlier: Path) -> None:
    (earlier / "artifacts" / "pkg.whl").unlink()
    seen: list[bytes] = []
    job2 = tmp_path / "job2"
    job2.mkdir()
    out = run(job2, *_stages(seen), only=["image"], from_dir=earlier)
    assert out.results["image"].status is Status.ABORTED
    assert "artifacts/pkg.whl" in out.results["image"].reason
    assert seen == []
    assert out.exit_code == 3


def test_changed_output_aborts(tmp_path: Path, earlier: Path) -> None:
    (earlier / "artifacts" / "pkg.whl").write_bytes(b"another wheel")
    job2 = tmp_path / "job2"
    job2.mkdir()
    out = run(job2, *_stages([]), only=["image"], from_dir=earlier)
    assert out.results["image"].status is Status.ABORTED
    assert "sha256 differs" in out.results["image"].reason


def test_only_without_from_aborts_stages_that_need_prerequisites(tmp_path: Path) -> None:
    out = run(tmp_path, *_stages([]), only=["image"])
    assert out.results["image"].status is Status.ABORTED
    assert "no --from" in out.results["image"].reason


def test_from_needs_only_and_another_directory(tmp_path: Path, earlier: Path) -> None:
    with pytest.raises(UsageError):
        run(tmp_path, *_stages([]), names=["image"], from_dir=earlier)
    with pytest.raises(UsageError, match="another directory"):
        run(earlier, *_stages([]), only=["image"], from_dir=earlier)


def test_missing_event_log_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    job = tmp_path / "job"
    job.mkdir()
    with pytest.raises(FromDirError, match="no event log"):
        run(job, *_stages([]), only=["image"], from_dir=empty)
