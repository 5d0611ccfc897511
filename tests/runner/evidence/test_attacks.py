"""The attacks of docs/threat-model.md, replayed over real runs of `finsig-runner run` on a small
project whose own tests are hostile (docs/evidence.md says which check catches each).

Two real runs are shared by the tests of this module: `clean` (its tests hunt for the signing
key and print a secret in encoded forms) and `hostile` (a failing test, two background processes
and a detached container that try to rewrite what the run recorded after the tests stage ended).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess  # nosec B404 - the test drives the runner's own CLI
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization

from finsig_runner.core import signing

from tests.support.evidence_forgery import forge_tests_passed, rechain
from tests.support.fake_stages import events
from tests.support.sample_project import WHEELHOUSE, git, make_project, make_vulndb

pytestmark = [pytest.mark.pipeline, pytest.mark.timeout(900)]
RUNNER = [sys.executable, "-m", "finsig_runner"]
SKIPPABLE = '["image.*", "monitoring.*", "staging.*"]'
SECRET = 'p4ss"w\\\\ord/ä€-0d3f9b7c'  # quotes, backslashes, non-ASCII, a slash

KEY_HUNT = '''\
import os
from pathlib import Path

NEEDLE = " ".join(["PRIVATE", "KEY"]).encode()  # built: neither this file nor its pyc holds it


def _hunt() -> list[str]:
    found = [f"env {k}" for k, v in os.environ.items() if NEEDLE in v.encode()]
    for proc in Path("/proc").iterdir():
        for leaf in ("environ", "cmdline") if proc.name.isdigit() else ():
            try:
                if NEEDLE in (proc / leaf).read_bytes():
                    found.append(f"{proc}/{leaf}")
            except OSError:
                continue
    roots = [Path.cwd()]  # the workspace, and whatever is mounted inside it
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = Path(line.split()[1])
        if point.is_relative_to(Path.cwd()) and point != Path.cwd():
            roots.append(point)
    for root in roots:
        for path in root.rglob("*"):
            try:
                if path.is_file() and NEEDLE in path.read_bytes():
                    found.append(str(path))
            except OSError:
                continue
    return found


def test_hunts_for_the_signing_key() -> None:
    found = _hunt()
    Path("key-hunt.json").write_text(repr(found))


def test_prints_a_secret_in_every_form() -> None:
    import base64, json
    from urllib.parse import quote
    value = os.environ["FINSIG_CANARY"]
    print("raw", value)
    print("json", json.dumps({"v": value}))
    print("url", quote(value, safe=""))
    print("b64", base64.b64encode(b"x" + value.encode()).decode())
'''

HOSTILE = '''\
import os
import subprocess
import sys
from pathlib import Path

DAEMON = r"""
import os, sys, time
from pathlib import Path
ws, tag, mode, source = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
if mode == "scrub":  # start again with an empty environment: no marker names the stage now
    os.execve(sys.executable, [sys.executable, "-c", source, str(ws), tag, "scrubbed", source], {})
(ws / f"daemon-{tag}.pid").write_text(str(os.getpid()))
result = ws / "reports" / "stages" / "tests.json"
while not result.is_file():
    time.sleep(0.05)
time.sleep(1)
junit = ws / "reports" / "test-results.xml"
junit.write_text(junit.read_text().replace('failures="1"', 'failures="0"'))
result.write_text(result.read_text().replace('"FAILED"', '"PASSED"'))
(ws / f"daemon-{tag}.done").write_text("rewritten")
"""


def _daemon(tag: str, mode: str) -> None:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", DAEMON, str(Path.cwd()), tag, mode,
                                      DAEMON])
        os._exit(0)
    os.wait()


def test_leaves_background_writers_behind() -> None:
    _daemon("marked", "keep")
    _daemon("scrubbed", "scrub")
    subprocess.run(["docker", "run", "-d", "--name", os.environ["ATTACK_CONTAINER"],
                    "-v", f"{Path.cwd()}:/w", "finsig/base:0.1.0", "sh", "-c",
                    "while [ ! -f /w/reports/stages/tests.json ]; do sleep 0.1; done; "
                    "echo forged > /w/reports/test-results.xml"], check=True)


def test_that_fails() -> None:
    assert 1 + 1 == 3
'''


@dataclass(frozen=True)
class Run:
    root: Path
    code: int
    output: str
    keys: signing.KeyPairFiles


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FINSIG_RUNNER_")}
    return subprocess.run(  # nosec B603 - fixed argv
        [*RUNNER, *args], cwd=cwd, env={**base, **(env or {})}, capture_output=True, text=True,
        timeout=840)


def _in_memory_key(where: Path) -> tuple[signing.PrivateKey, signing.KeyPairFiles]:
    """A key pair whose private half is NOT on disk while the run goes (only its public key is):
    the run is told the fingerprint, and the private key is written only to seal."""
    key = signing.generate_key()
    where.mkdir(parents=True)
    public = where / signing.PUBLIC_KEY_NAME
    public.write_bytes(signing.public_key_pem(key))
    files = signing.KeyPairFiles(where / signing.PRIVATE_KEY_NAME, public,
                                 signing.fingerprint(key))
    return key, files


def _write_private(key: signing.PrivateKey, files: signing.KeyPairFiles) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    files.private.write_bytes(pem)
    files.private.chmod(0o600)


def _run(base: Path, name: str, test_source: str, extra: dict[str, str]) -> tuple[Run, Any]:
    if not any(WHEELHOUSE.glob("pytest-*.whl")):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE} (run `make wheelhouse`)")
    root = make_project(base / name)
    (root / "tests" / f"test_{name}.py").write_text(test_source)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"the {name} tests")
    key, keys = _in_memory_key(base / f"keys-{name}")
    vulndb = make_vulndb(base / f"vulndb-{name}")
    done = _cli("run", "--workspace", str(root), "--jobs", "2",
                "--set", f"wheelhouse={WHEELHOUSE}", "--set", f"vulndb={vulndb}",
                "--set", f"expected_signer={keys.fingerprint}", "--set", "sbom=false",
                "--set", f"allow_skipped={SKIPPABLE}", "--set", 'secret_env=["FINSIG_CANARY"]',
                "--set", 'tool_env=["FINSIG_CANARY", "ATTACK_CONTAINER"]',
                "--set", 'pytest_args=["-s", "-p", "no:cacheprovider"]', cwd=root, env=extra)
    return Run(root, done.returncode, done.stdout + done.stderr, keys), key


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Run:
    base = tmp_path_factory.mktemp("attacks-clean")
    run, key = _run(base, "clean", KEY_HUNT, {"FINSIG_CANARY": SECRET})
    assert run.code == 0, run.output[-4000:]
    _write_private(key, run.keys)  # only now, after the run: the sealer's turn
    sealed = _cli("seal", str(run.root), "--key", str(run.keys.private), cwd=base)
    assert sealed.returncode == 0, sealed.stdout + sealed.stderr
    return run


def _holding(root: Path, needles: list[bytes]) -> list[str]:
    return sorted(str(p.relative_to(root)) for sub in ("reports", "artifacts")
                  for p in (root / sub).rglob("*")
                  if p.is_file() and any(n in p.read_bytes() for n in needles))


def test_the_key_is_nowhere_the_code_under_test_can_look(clean: Run) -> None:
    found = (clean.root / "key-hunt.json").read_text()
    assert found == "[]", found  # env, every /proc/*/environ and cmdline, the workspace, mounts
    pem = clean.keys.private.read_bytes()
    body = b"".join(line for line in pem.splitlines() if not line.startswith(b"-----"))
    assert _holding(clean.root, [pem, body]) == []
    verified = _cli("verify", str(clean.root), "--pubkey", str(clean.keys.public),
                    cwd=clean.root.parent)
    assert verified.returncode == 0, verified.stdout  # and the evidence is sealed all the same
    assert "sealed by " + clean.keys.fingerprint in verified.stdout


def test_a_secret_in_any_encoding_reaches_no_file(clean: Run) -> None:
    forms = [SECRET.encode(), json.dumps(SECRET)[1:-1].encode(),
             quote(SECRET, safe="").encode(),
             base64.b64encode(b"x" + SECRET.encode())[4:28]]
    assert _holding(clean.root, forms) == []
    log = (clean.root / "reports" / "logs" / "tests.log").read_text()
    for label in ("raw", "json", "url", "b64"):
        assert f"{label} " in log and "[redacted:FINSIG_CANARY]" in log


def test_an_unusable_key_or_another_signer_is_refused_by_the_sealer(
        clean: Run, tmp_path: Path) -> None:
    junk = tmp_path / "junk.key"
    junk.write_text("not a key\n")
    assert _cli("seal", str(clean.root), "--key", str(junk), cwd=tmp_path).returncode == 3
    other = signing.write_keypair(tmp_path / "other")
    refused = _cli("seal", str(clean.root), "--key", str(other.private), cwd=tmp_path)
    assert refused.returncode == 1 and "expects signer" in refused.stderr
    pinned = _cli("verify", str(clean.root), "--pubkey", other.fingerprint, cwd=tmp_path)
    assert pinned.returncode == 2  # no key with that fingerprint: never the one carried inside


def test_a_forged_from_directory_cannot_write_outside_the_workspace(
        clean: Run, tmp_path: Path) -> None:
    forged = tmp_path / "forged"
    shutil.copytree(clean.root / "reports", forged / "reports")
    shutil.copytree(clean.root / "artifacts", forged / "artifacts")
    escape = tmp_path / "escaped.sh"

    def edit(record: dict[str, Any]) -> dict[str, Any]:
        if record.get("path") == "artifacts/build-hash.txt":
            record["path"] = f"../../{escape.name}"
        return record

    rechain(forged / "artifacts" / "ci_cd_events.log", edit)
    target = tmp_path / "job"
    shutil.copytree(clean.root, target, ignore=shutil.ignore_patterns("reports", "artifacts"))
    for trust in (["--pubkey", str(clean.keys.public)], ["--allow-unsigned"]):
        done = _cli("run", "--workspace", str(target), "--only", "image", "--from", str(forged),
                    *trust, cwd=tmp_path)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "refused" in done.stderr
    assert not escape.exists() and not (target / "artifacts").exists()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Run:
    base = tmp_path_factory.mktemp("attacks-hostile")
    name = f"finsig-attack-{os.getpid()}"
    try:
        run, _ = _run(base, "hostile", HOSTILE, {"ATTACK_CONTAINER": name})
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)  # nosec B603 B607
    return run


@pytest.mark.docker
def test_writers_left_behind_by_the_tests_are_stopped(hostile: Run) -> None:
    root = hostile.root
    assert hostile.code == 1, hostile.output[-4000:]  # the failing test, and nothing else
    doc = json.loads((root / "artifacts" / "artifact-validation.json").read_text())
    assert doc["status"] == "FAILED"
    assert "tests.pass" in [f["id"] for f in doc["verdict"]["failures"]]
    assert 'failures="1"' in (root / "reports" / "test-results.xml").read_text()
    assert json.loads((root / "reports" / "stages" / "tests.json").read_text())[
        "status"] == "FAILED"
    # A leftover that names its stage goes when that stage ends; one that hides its marker (the
    # scrubbed daemon) or a stray container goes when the first stage ends after it appeared.
    cleanup = [e for e in events(root) if e["event"] == "stage_cleanup"]
    assert cleanup, "the tests stage left processes and a container; none was cleaned up"
    killed = {pid for e in cleanup for pid in e["killed"]}
    for tag in ("marked", "scrubbed"):
        pid = int((root / f"daemon-{tag}.pid").read_text())
        assert pid in killed, (tag, pid, killed)
        assert not (root / f"daemon-{tag}.done").exists()
    assert any(e["containers"] for e in cleanup), cleanup
    end = [e for e in events(root) if e["event"] == "run_end"][0]
    assert end["integrity"] is None  # nothing was rewritten: the writers never got to it


@pytest.mark.docker
def test_a_rechained_job_is_refused_by_the_merge(hostile: Run, tmp_path: Path) -> None:
    merged = tmp_path / "merge"
    job = merged / "evidence" / "tests"
    for sub in ("reports", "artifacts"):
        shutil.copytree(hostile.root / sub, job / sub)
    forge_tests_passed(job)
    done = _cli("validate", "--workspace", str(merged), "--merge", str(job),
                "--pubkey", str(hostile.keys.public), cwd=tmp_path)
    assert done.returncode == 1 and "not sealed by a trusted key" in done.stderr
    assert not (merged / "artifacts").exists()
