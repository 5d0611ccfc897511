"""The run report in a real browser: two real runs of `finsig-runner run` over a small sample
project (one PASSED; one FAILED, with a failing test whose name holds a <script>, and a bandit
finding), each rendered by `finsig-runner report DIR --pubkey`, opened in headless Chromium.

Checks what a person sees, that the page asked for nothing over the network, and — the positive
control — that the same check does catch a request planted in a copy of the page (blocked by
the page's CSP; and reaching the local listener once the CSP is taken out). The screenshots stay
in reports/screenshots/ for a person to look at.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess  # nosec B404 - the test drives the runner's own CLI
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from finsig_runner.report.html_page import csp

from tests.support import browser_session as browser
from tests.support import evidence_set as es
from tests.support.sample_project import WHEELHOUSE, git, make_project, make_vulndb

# A real run (the runner's own tools) and the browser `make test` installs (make browser-deps).
pytestmark = [pytest.mark.docker, pytest.mark.pipeline, pytest.mark.timeout(420)]
RUNNER = [sys.executable, "-m", "finsig_runner"]
SHOTS = browser.REPO / "reports" / "screenshots"
SCRIPT = "<script>document.title='pwned'</script>"
HOSTILE_TEST = f'''\
import pytest


@pytest.mark.parametrize("case", ["x"], ids=[{SCRIPT!r}])
def test_report_shows(case: str) -> None:
    assert case == "y", "naïve </style> \\"quoted\\" <b>bold</b>"
'''
UNSAFE = '''\
def evaluate(expression: str) -> object:
    return eval(expression)  # planted for the report test: bandit B307
'''


@dataclass(frozen=True)
class Rendered:
    page: Path
    run_code: int
    report_code: int
    output: str


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINSIG_RUNNER_")}
    return subprocess.Popen([*RUNNER, *args], env=env, stdout=subprocess.PIPE,  # nosec B603
                            stderr=subprocess.STDOUT, text=True)


def _project(root: Path, failing: bool) -> Path:
    make_project(root)
    if failing:
        (root / "tests" / "test_hostile.py").write_text(HOSTILE_TEST, encoding="utf-8")
        (root / "src" / "demo" / "unsafe.py").write_text(UNSAFE, encoding="utf-8")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "a failing test and a bandit finding")
    return root


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Rendered]]:
    if not any(WHEELHOUSE.glob("pytest-*.whl")):
        pytest.fail(f"no wheelhouse at {WHEELHOUSE} (run `make wheelhouse`)")
    base = tmp_path_factory.mktemp("report-runs")
    keys = es.make_key(base / "keys")
    vulndb = make_vulndb(base / "vulndb")
    roots = {name: _project(base / name, name == "failed") for name in ("passed", "failed")}
    runs = {name: _cli("run", "--workspace", str(root), "--jobs", "2",
                       "--set", f"wheelhouse={WHEELHOUSE}", "--set", f"vulndb={vulndb}",
                       "--set", f"expected_signer={keys.public}", "--set", "sbom=false",
                       "--set", 'allow_skipped=["image.*", "monitoring.*", "staging.*"]')
            for name, root in roots.items()}  # both at once: most of their time is waiting
    out: dict[str, Rendered] = {}
    try:
        for name, proc in runs.items():
            run_output = proc.communicate(timeout=300)[0]
            sealed = _cli("seal", str(roots[name]), "--key", str(keys.private))
            run_output += sealed.communicate(timeout=120)[0]
            report = _cli("report", str(roots[name]), "--pubkey", str(keys.public))
            output = report.communicate(timeout=120)[0]
            # the run wrote its own page (under the seal); the verified one goes beside it
            out[name] = Rendered(roots[name] / "reports" / "index.rendered.html",
                                 proc.returncode, report.returncode, run_output[-3000:] + output)
    finally:
        for proc in runs.values():  # a failed or interrupted fixture: the runner ends its run
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=60)
    yield out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def session(rendered: dict[str, Rendered], tmp_path_factory: pytest.TempPathFactory
            ) -> browser.Session:
    missing = browser.missing_browser()
    if missing:
        pytest.fail(missing)
    port = _free_port()
    html = rendered["failed"].page.read_text(encoding="utf-8")
    planted = html.replace("<body>", f'<body><img src="http://127.0.0.1:{port}/planted.png">', 1)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{csp()}">'.replace("'", "&#x27;")
    assert planted != html and meta in planted
    controls = tmp_path_factory.mktemp("controls")
    (controls / "csp.html").write_text(planted, encoding="utf-8")
    (controls / "no-csp.html").write_text(planted.replace(meta, ""), encoding="utf-8")
    pages = {"report-passed": rendered["passed"].page, "report-failed": rendered["failed"].page,
             "control-csp": controls / "csp.html", "control-no-csp": controls / "no-csp.html"}
    found = browser.visit(pages, SHOTS, port)
    print(f"\nbrowser: {found.isolation}; {len(pages)} pages in {found.seconds:.1f}s; "
          f"screenshots in {SHOTS}")
    return found


def test_both_runs_are_real_and_their_evidence_verifies(rendered: dict[str, Rendered]) -> None:
    assert rendered["passed"].run_code == 0, rendered["passed"].output
    assert rendered["failed"].run_code == 1, rendered["failed"].output
    for run in rendered.values():  # a FAILED verdict with intact evidence still verifies
        assert run.report_code == 0, run.output
        assert "the evidence verifies with the key given" in run.output


def test_the_passed_run_reads_passed(session: browser.Session) -> None:
    page = session.pages["report-passed"]
    assert page.title.endswith(": PASSED")
    assert "Verdict: PASSED" in page.text
    assert "The evidence verifies with the key you gave" in page.text
    stages = {row[0]: row[1] for row in page.tables["stages"] if len(row) > 1}
    assert {n: stages[n] for n in ("tests", "lint", "security", "validate")} == dict.fromkeys(
        ("tests", "lint", "security", "validate"), "PASSED")


def test_the_failed_run_shows_the_failing_stage_test_and_finding(
        session: browser.Session) -> None:
    page = session.pages["report-failed"]
    assert page.title.endswith(": FAILED") and "pwned" not in page.title  # no script ran
    assert page.scripts == 0  # nor is there one: the test name is text
    assert "Verdict: FAILED" in page.text
    stages = {row[0]: row[1] for row in page.tables["stages"] if len(row) > 1}
    assert stages["tests"] == "FAILED" and stages["security"] == "FAILED"
    failures = [row for row in page.tables["tests"] if row and SCRIPT in row[0]]
    assert failures, page.tables["tests"]
    assert failures[0][0].endswith(f"test_report_shows[{SCRIPT}]")
    assert "naïve </style>" in failures[0][2]
    findings = page.tables["findings"]
    assert any(row[:2] == ["2", "B307"] for row in findings), findings
    assert "src/demo/unsafe.py" in page.text


def test_the_report_pages_made_no_request(session: browser.Session) -> None:
    for name in ("report-passed", "report-failed"):
        page = session.pages[name]
        assert (page.requests, page.blocked, page.hits) == ([], [], []), name
        assert not [c for c in page.console if "SEVERE" in c or "WARNING" in c], page.console


def test_a_planted_request_is_caught(session: browser.Session) -> None:
    """The positive control: the same detector, on a copy with an <img> planted on the local
    listener. With the page's CSP the browser blocks it (and says so); without, it arrives."""
    blocked = session.pages["control-csp"]
    assert [u for u in blocked.requests if u.endswith("/planted.png")], blocked.requests
    assert [r for u, r in blocked.blocked if u.endswith("/planted.png")] == ["csp"]
    assert [c for c in blocked.console if "Content Security Policy" in c], blocked.console
    assert blocked.hits == []
    open_page = session.pages["control-no-csp"]
    assert [u for u in open_page.requests if u.endswith("/planted.png")], open_page.requests
    assert open_page.hits == ["GET /planted.png HTTP/1.1"]


def test_the_screenshots_are_kept(session: browser.Session) -> None:
    for name in ("report-passed", "report-failed"):
        shot = Path(session.pages[name].screenshot)
        assert shot.parent == SHOTS and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.dumps(session.isolation)  # reported above: netns, or the proxy fallback
