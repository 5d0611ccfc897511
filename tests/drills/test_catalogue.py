"""The fault catalogue is complete and its faults still fit the repository they are planted in.

No Docker here: the plants run on a scratch copy of the files they change, so that a change to
the project that moves an anchor fails a fast test, not a two-hour drill.
"""

from __future__ import annotations

import py_compile
import re
import shutil
from pathlib import Path

import pytest
import yaml

from drills import fault_plants
from drills.expect import ANY
from drills.faults import CATALOGUE, FAULTS
from drills.project import Copy, InjectionError
from drills.tamper import TAMPER_EXPECTATIONS

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]

# Issue 17's list, in its words, and the catalogue entry for each.
NAMED_BY_THE_ISSUE = {
    "a failing test": "failing-test",
    "a test hanging past its timeout": "hanging-test",
    "a flake8 error": "flake8-error",
    "a mypy error": "mypy-error",
    "a bandit high finding": "bandit-high",
    "a known-vulnerable pin": "vulnerable-pin",
    "an irreproducible build (a timestamp in the wheel)": "irreproducible-build",
    "a broken Dockerfile.app": "broken-dockerfile",
    "an app that never gets healthy": "app-never-healthy",
    "an app that crashes 5 s after start": "app-crashes",
    "Postgres down at start": "postgres-down-at-start",
    "Postgres killed mid-staging": "postgres-killed",
    "a rule file with a syntax error": "rule-syntax-error",
    "an alert rule that never fires": "alert-never-fires",
    "a report tampered between stages": "report-tampered",
    "a tampered event log": "event-log-tampered",
    "a tampered bundle": "bundle-tampered",
    "no Docker socket": "no-docker-socket",
    "a full disk in the workspace (a small tmpfs)": "disk-full",
    "SIGINT at a random moment": "sigint-random",
    "SIGKILL of the runner followed by `finsig-runner clean`": "sigkill-clean",
}
DOCUMENTED_EXITS = {0, 1, 2, 3, 130}  # docs/runner.md; 137 is docker's own for a SIGKILLed run
STATUSES = {"PASSED", "FAILED", "ERROR", "SKIPPED", "ABORTED", "CACHED", "INTERRUPTED",
            "PARTIAL", "OK", "no event log", ANY}


def test_every_fault_the_issue_names_is_in_the_catalogue() -> None:
    missing = {words: name for words, name in NAMED_BY_THE_ISSUE.items() if name not in FAULTS}
    assert not missing
    faults = [f for f in CATALOGUE if not f.control]
    assert len(faults) >= 20
    assert len(FAULTS) == len(CATALOGUE), "a fault name is used twice"


def test_every_fault_has_a_full_expectation() -> None:
    for fault in CATALOGUE:
        assert fault.expect, fault.name
        for expect in fault.expect:
            assert expect.exit_code in DOCUMENTED_EXITS | {137}, fault.name
            assert expect.status in STATUSES, (fault.name, expect.status)
            re.compile(expect.message)
            assert expect.message not in ("", ".*"), f"{fault.name}: a message that names nothing"
        assert fault.where.split(";")[0] in ("image", "host"), fault.name


def test_only_the_sigkill_fault_expects_an_undocumented_exit() -> None:
    odd = {f.name for f in CATALOGUE for e in f.expect if e.exit_code not in DOCUMENTED_EXITS}
    assert odd == {"sigkill-clean"}


def test_the_tamper_faults_take_their_expectations_from_the_one_table() -> None:
    for name, expectations in TAMPER_EXPECTATIONS.items():
        assert FAULTS[name].expect == expectations


PLANTED = ("Dockerfile.app", "docker-compose.staging.yml", "pyproject.toml", "monitoring",
           "requirements/core.txt", "src/finsig", "tests/app/__init__.py")


@pytest.fixture
def scratch(tmp_path: Path) -> Copy:
    for rel in PLANTED:
        source, target = ROOT / rel, tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    return Copy(tmp_path)


EDITS = [fault_plants.failing_test, fault_plants.hanging_test, fault_plants.flake8_error,
         fault_plants.mypy_error, fault_plants.bandit_high, fault_plants.irreproducible_build,
         fault_plants.broken_dockerfile, fault_plants.app_never_healthy,
         fault_plants.app_crashes, fault_plants.postgres_down_at_start,
         fault_plants.rule_syntax_error, fault_plants.alert_never_fires]


@pytest.mark.parametrize("edit", EDITS, ids=lambda e: e.__name__)
def test_each_plant_finds_its_anchor_and_leaves_valid_files(scratch: Copy, edit: object) -> None:
    assert callable(edit)
    edit(scratch)
    for path in scratch.root.rglob("*.py"):
        py_compile.compile(str(path), doraise=True, cfile=str(path) + "c")
    yaml.safe_load((scratch.root / "docker-compose.staging.yml").read_text())
    if edit is not fault_plants.rule_syntax_error:
        yaml.safe_load((scratch.root / "monitoring" / "alert_rules.yml").read_text())


def test_the_rule_file_plant_breaks_the_yaml(scratch: Copy) -> None:
    fault_plants.rule_syntax_error(scratch)
    with pytest.raises(yaml.YAMLError):
        yaml.safe_load((scratch.root / "monitoring" / "alert_rules.yml").read_text())


def test_a_plant_whose_anchor_moved_says_so(scratch: Copy) -> None:
    scratch.write("Dockerfile.app", "FROM scratch\n")
    with pytest.raises(InjectionError, match="Dockerfile.app"):
        fault_plants.broken_dockerfile(scratch)


def test_the_vulnerable_pin_is_pinned_with_the_hash_of_its_wheel(scratch: Copy) -> None:
    where = fault_plants.vulnerable_pin(scratch)
    assert where == "/workspace/.finsig-runner/drill-wheelhouse"
    wheels = scratch.root / ".finsig-runner" / "drill-wheelhouse"
    assert (wheels / fault_plants.DEBIAN_PIP.name).is_file()
    assert re.search(r"^pip==23\.0\.1 \\\n    --hash=sha256:[0-9a-f]{64}$",
                     scratch.read("requirements/core.txt"), re.MULTILINE)
