"""The real `finsig-runner run` over a fixture project with a key, then `finsig-runner verify`."""

from __future__ import annotations

import json
import os
import subprocess  # nosec B404 - the test drives the runner's own CLI
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from finsig_runner.stages.validate import sbom

from tests.support.sample_project import WHEELHOUSE, git, make_project, make_vulndb
from tests.support import evidence_set as es

pytestmark = [pytest.mark.pipeline, pytest.mark.timeout(900)]
RUNNER = [sys.executable, "-m", "finsig_runner"]
# The fixture has no Dockerfile.app and no monitoring/: those stages SKIP, which it allows.
NO_DOCKER_STAGES = ["image.*", "monitoring.*", "staging.*"]
# A secret the fixture's tests print (pytest -s): it must reach no file the run writes.
CANARY = "canary-0b7e51d2-must-never-be-written"
CANARY_TEST = """\
import os


def test_prints_the_secret() -> None:
    print("the secret is", os.environ.get("FINSIG_CANARY"))
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINSIG_RUNNER_")}
    env["FINSIG_CANARY"] = CANARY
    return subprocess.run(  # nosec B603 - fixed argv
        [*RUNNER, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=840)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not any(WHEELHOUSE.glob("pytest-*.whl")):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE} (run `make wheelhouse`)")
    root = make_project(tmp_path_factory.mktemp("demo"))
    (root / "tests" / "test_canary.py").write_text(CANARY_TEST)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "a test that prints a secret")
    return root


def test_full_run_signed_then_verified(project: Path, tmp_path: Path) -> None:
    keys = es.make_key(tmp_path / "keys")
    vulndb = make_vulndb(tmp_path / "vulndb")
    done = _cli("run", "--workspace", str(project), "--jobs", "2",
                "--set", f"wheelhouse={WHEELHOUSE}", "--set", f"vulndb={vulndb}",
                "--set", f"expected_signer={keys.public}",
                "--set", f"allow_skipped={json.dumps(NO_DOCKER_STAGES)}",
                "--set", 'secret_env=["FINSIG_CANARY"]', "--set", 'tool_env=["FINSIG_CANARY"]',
                "--set", 'pytest_args=["-s"]', cwd=project)
    doc = json.loads((project / "artifacts" / "artifact-validation.json").read_text())
    assert done.returncode == 0, (done.stdout[-3000:], doc["verdict"])
    assert doc["status"] == "PASSED" and doc["signing"]["expected_signer"] == keys.fingerprint
    assert set(doc["socket_exposed"]) <= {"tests", "typing", "build"}
    sealed = _cli("seal", str(project), "--key", str(keys.private), cwd=tmp_path)
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    assert doc["vulnerability_database"]["source_date"] == "2024-10-10"
    assert doc["source"]["dirty"] is False and doc["source"]["commit"]
    ran = {s["name"]: s["status"] for s in doc["stages"]}
    assert {n for n, st in ran.items() if st == "PASSED"} == {
        "tests", "lint", "typing", "security", "build"}, ran
    for rel in (sbom.APP, sbom.RUNNER):
        bom = json.loads((project / rel).read_text())
        assert bom["bomFormat"] == "CycloneDX" and "serialNumber" not in bom
    prov = doc["provenance"]
    assert prov["envelope"] and prov["subjects"] == ["artifacts/demo-0.1.0-py3-none-any.whl",
                                                     "artifacts/demo-0.1.0.tar.gz"]
    assert "the secret is [redacted:FINSIG_CANARY]" in (
        project / "reports" / "logs" / "tests.log").read_text()
    holding = [p for sub in ("reports", "artifacts") for p in (project / sub).rglob("*")
               if p.is_file() and CANARY.encode() in p.read_bytes()]
    assert holding == [] and CANARY not in done.stdout + done.stderr
    checked = _cli("verify", str(project), "--pubkey", str(keys.public), "--require-signature",
                   cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.rstrip().endswith("verify: OK")


@dataclass(frozen=True)
class _Done:
    returncode: int
    output: str


def _tool(argv: Sequence[str], env: Mapping[str, str]) -> _Done:
    done = subprocess.run(  # nosec B603 - the SBOM tool's argv
        list(argv), capture_output=True, text=True, env={**os.environ, **env}, timeout=300)
    return _Done(done.returncode, done.stdout + done.stderr)


def test_the_app_sbom_is_reproducible(project: Path, tmp_path: Path) -> None:
    outputs = []
    for n in range(2):
        root = tmp_path / str(n)
        (root / "artifacts").mkdir(parents=True)
        (root / "pyproject.toml").write_bytes((project / "pyproject.toml").read_bytes())
        made = sbom.app_sbom(_tool, root, [project / "requirements" / "core.txt"])
        assert made.problem == "" and made.path == sbom.APP
        outputs.append((root / sbom.APP).read_bytes())
    assert outputs[0] == outputs[1]
    assert b"pkg:pypi/typing-extensions@" in outputs[0]
