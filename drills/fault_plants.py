"""The faults planted in the copy's files before the run (each checks the text it changes is there:
a copy that is not what the fault expects is an InjectionError, not a finding)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from drills.machine import ROOT
from drills.project import Copy, InjectionError
from finsig_runner.core.hashing import sha256_file

FAILING_TEST = '''"""A planted failing test (reliability drill)."""


def test_drill_failing() -> None:
    assert 1 + 1 == 3
'''

# Sorts first in tests/app, so that it is the test running when tool_timeout stops pytest.
HANGING_TEST = '''"""A planted test that never ends (reliability drill)."""

import threading


def test_drill_hangs() -> None:
    threading.Event().wait()
'''

SHELL_MODULE = '''"""Runs a shell command: a planted bandit finding (reliability drill)."""

import subprocess


def run(command: str) -> int:
    return subprocess.call(command, shell=True)
'''

# A hatchling build hook that writes the build time into the wheel (as tests/support's STAMP_HOOK
# does for the fixture project): the same sources never build the same wheel.
STAMP_HOOK = '''import time
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class StampHook(BuildHookInterface):
    def initialize(self, version, build_data):
        stamp = Path(self.root) / "build-stamp.txt"
        stamp.write_text(str(time.time_ns()))
        build_data["force_include"][str(stamp)] = "finsig/build-stamp.txt"
'''

CRASH_HOOK = '''

if os.environ.get("FINSIG_DRILL_CRASH_AFTER"):  # planted: the process dies N s after start
    threading.Timer(float(os.environ["FINSIG_DRILL_CRASH_AFTER"]), os._exit, (1,)).start()
'''

DEBIAN_PIP = Path("/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl")
DRILL_WHEELHOUSE = ".finsig-runner/drill-wheelhouse"


def failing_test(copy: Copy) -> None:
    copy.write("tests/app/test_drill_failing.py", FAILING_TEST)


def hanging_test(copy: Copy) -> None:
    copy.write("tests/app/test_0_drill_hangs.py", HANGING_TEST)


def flake8_error(copy: Copy) -> None:
    copy.append("src/finsig/problems.py", "\n\ndrill_planted=1\n")  # E225


def mypy_error(copy: Copy) -> None:
    copy.append("src/finsig/signals.py",
                '\n\ndef _drill_planted() -> int:\n    return "42"\n')  # [return-value]


def bandit_high(copy: Copy) -> None:
    copy.write("src/finsig/drill_shell.py", SHELL_MODULE)  # B602, severity HIGH


def vulnerable_pin(copy: Copy) -> str:
    """Pin pip 23.0.1 (PYSEC-2023-228) in what ships, its wheel (Debian's) in a wheelhouse made
    for the run: this repository's wheels, hard-linked, plus that one. Returns that wheelhouse as
    the runner sees it (give it with --set wheelhouse=...)."""
    if not DEBIAN_PIP.is_file():
        raise InjectionError(f"{DEBIAN_PIP} is missing (Debian's python3-pip-whl)")
    wheels = copy.root / DRILL_WHEELHOUSE
    wheels.mkdir(parents=True)
    source = (ROOT / "wheelhouse").resolve()
    for wheel in source.glob("*.whl"):
        try:
            os.link(wheel, wheels / wheel.name)
        except OSError:
            shutil.copy2(wheel, wheels / wheel.name)
    shutil.copy2(DEBIAN_PIP, wheels / DEBIAN_PIP.name)
    digest = sha256_file(DEBIAN_PIP)
    copy.append("requirements/core.txt", f"pip==23.0.1 \\\n    --hash=sha256:{digest}\n")
    return f"/workspace/{DRILL_WHEELHOUSE}"


def irreproducible_build(copy: Copy) -> None:
    copy.write("hatch_build.py", STAMP_HOOK)
    copy.append("pyproject.toml",
                '\n[tool.hatch.build.targets.wheel.hooks.custom]\npath = "hatch_build.py"\n')


def broken_dockerfile(copy: Copy) -> None:
    copy.replace("Dockerfile.app", "\nUSER 10001:10001\n",
                 "\nCOPY no-such-file-drill /nowhere\nUSER 10001:10001\n")


def _app_environment(copy: Copy, variable: str, line: str) -> None:
    """Add an environment line to the staging compose file's app service."""
    anchor = "      FINSIG_LOG_LEVEL: INFO\n"
    copy.replace("docker-compose.staging.yml", anchor, anchor + f"      {variable}: {line}\n")


def app_never_healthy(copy: Copy) -> None:
    """The app's database password is wrong: it serves, but /readyz (its healthcheck) is 503."""
    copy.replace("docker-compose.staging.yml",
                 "FINSIG_DATABASE_URL: postgresql://finsig:finsig-staging@postgres",
                 "FINSIG_DATABASE_URL: postgresql://finsig:wrong-password@postgres")


def app_crashes(copy: Copy) -> None:
    """The app process exits (code 1) 5 s after it starts, in staging only."""
    copy.replace("src/finsig/__main__.py", "import json\n", "import json\nimport os\n")
    copy.replace("src/finsig/__main__.py", "import sys\n", "import sys\nimport threading\n")
    copy.replace("src/finsig/__main__.py", "\n\ndef main() -> int:\n",
                 CRASH_HOOK.rstrip("\n") + "\n\n\ndef main() -> int:\n")
    _app_environment(copy, "FINSIG_DRILL_CRASH_AFTER", '"5"')


def postgres_down_at_start(copy: Copy) -> None:
    """PostgreSQL refuses to start: an unknown setting on its command line."""
    copy.replace("docker-compose.staging.yml", "      POSTGRES_DB: finsig\n",
                 "      POSTGRES_DB: finsig\n    command: [\"-c\", \"drill_no_such_setting=1\"]\n")


def rule_syntax_error(copy: Copy) -> None:
    copy.replace("monitoring/alert_rules.yml", "        expr: up{job=\"app\"} == 0\n",
                 "        expr: up{job=\"app\"} == 0\n       for: [10s\n")


def alert_never_fires(copy: Copy) -> None:
    """AppDown can never be true, and its firing test is taken out so that promtool passes: only
    staging's fault drill can notice."""
    copy.replace("monitoring/alert_rules.yml", 'expr: up{job="app"} == 0',
                 'expr: up{job="app"} < 0')
    tests = "monitoring/tests/availability.yml"
    text = copy.read(tests)
    start = text.find("  - name: AppDown fires 10 s after the app stops answering\n")
    end = text.find("  - name: AppDown stays quiet")
    if start < 0 or end < start:
        raise InjectionError(f"{tests}: the AppDown firing test is not where expected")
    copy.write(tests, text[:start] + text[end:])
