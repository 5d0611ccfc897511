"""`finsig-runner report DIR`: exit codes 0 / 1 / 2, over evidence the real engine signed (fake
stages, so that a whole signed set takes well under a second)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from finsig_runner.cli import main as cli
from finsig_runner.core import signing

from tests.support import evidence_set as es
from tests.support import report_evidence as ev
from tests.support.fake_stages import events

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, signing.KeyPairFiles]:
    base = tmp_path_factory.mktemp("signed")
    keys = es.make_key(base / "keys")
    root = es.workspace(base / "ws")
    out = es.run(root, es.stages(), es.config(keys.private))
    assert out.exit_code == 0, out.results
    return root, keys


def _copy(src: Path, dst: Path) -> Path:
    for sub in ("reports", "artifacts"):
        shutil.copytree(src / sub, dst / sub)
    return dst


def test_written_and_verified_with_the_right_key(signed: tuple[Path, signing.KeyPairFiles],
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = _copy(signed[0], tmp_path / "copy")
    summary = tmp_path / "summary.md"
    code = cli.main(["report", str(root), "--pubkey", str(signed[1].public),
                     "--markdown", str(summary)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "the evidence verifies with the key given" in out
    page = (root / "reports" / "index.rendered.html").read_text(encoding="utf-8")
    assert "Verdict: PASSED" in page and "The evidence verifies with the key you gave" in page
    assert signed[1].fingerprint in page  # the expected signer, from the document
    assert "stage graph" in page  # the registry's graph was given
    assert summary.read_text(encoding="utf-8").startswith("# FINSIG run: PASSED")
    # by fingerprint: the key carried in DIR, accepted only through the pinned fingerprint
    assert cli.main(["report", str(root), "--pubkey", signed[1].fingerprint]) == 0


def test_another_key_or_a_changed_file_exits_1(signed: tuple[Path, signing.KeyPairFiles],
                                               tmp_path: Path) -> None:
    root = _copy(signed[0], tmp_path / "copy")
    other = es.make_key(tmp_path / "other")
    assert cli.main(["report", str(root), "--pubkey", str(other.public)]) == 1
    page = (root / "reports" / "index.rendered.html").read_text(encoding="utf-8")
    assert "does NOT verify" in page
    assert cli.main(["report", str(root), "--pubkey", str(signed[1].public)]) == 0
    with (root / "reports" / "test-results.xml").open("ab") as handle:
        handle.write(b"<!-- changed after signing -->")
    assert cli.main(["report", str(root), "--pubkey", str(signed[1].public)]) == 1


def test_without_a_key_nothing_is_claimed(signed: tuple[Path, signing.KeyPairFiles],
                                          tmp_path: Path) -> None:
    root = _copy(signed[0], tmp_path / "copy")
    out = tmp_path / "elsewhere" / "page.html"
    assert cli.main(["report", str(root), "--output", str(out)]) == 0
    assert not (root / "reports" / "index.rendered.html").exists()
    page = out.read_text(encoding="utf-8")
    assert "not verified here (render with --pubkey to verify)" in page
    assert "verifies" not in page
    unsigned = ev.write(tmp_path / "unsigned")
    assert cli.main(["report", str(unsigned)]) == 0
    page = (unsigned / "reports" / "index.html").read_text(encoding="utf-8")
    assert "UNSIGNED: no expected_signer configured" in page


def test_usage_errors_exit_2(signed: tuple[Path, signing.KeyPairFiles], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert cli.main(["report", str(tmp_path / "empty")]) == 2
    assert "no reports/ or artifacts/ here" in capsys.readouterr().err
    root = _copy(signed[0], tmp_path / "copy")
    inside = root / "artifacts" / "finsig-signing.pub"
    assert cli.main(["report", str(root), "--pubkey", str(inside)]) == 2
    assert "never trusted" in capsys.readouterr().err
    assert not (root / "reports" / "index.rendered.html").exists()


def test_the_run_writes_its_own_page_under_the_seal(signed: tuple[Path, signing.KeyPairFiles],
                                                    tmp_path: Path) -> None:
    root = _copy(signed[0], tmp_path / "copy")
    page = root / "reports" / "index.html"
    assert "Verdict: PASSED" in page.read_text(encoding="utf-8")
    logged = [e["path"] for e in events(root) if e["event"] == "artifact"]
    assert "reports/index.html" in logged  # recorded after the document: the seal covers it
    assert cli.main(["verify", str(root), "--pubkey", str(signed[1].public)]) == 0
    page.write_text(page.read_text(encoding="utf-8").replace("PASSED", "PASSED!"))
    assert cli.main(["verify", str(root), "--pubkey", str(signed[1].public)]) == 1
