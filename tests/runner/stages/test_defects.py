"""One defect per stage: each fails exactly its own stage, its reason naming file, line or package.

Every planted module comes with a test that covers it, so that only the intended stage notices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from finsig_runner.core.model import Status

from .conftest import Demo
from tests.support.sample_project import STAMP_CONFIG, STAMP_HOOK, planted
from tests.support.run_stages import run_all


@dataclass(frozen=True)
class Defect:
    stage: str
    files: dict[str, str]
    expect: tuple[str, ...]  # substrings of the failing stage's reason
    append: dict[str, str] = field(default_factory=dict)  # text added to existing files


DEFECTS = {
    "failing-test": Defect(
        "tests",
        {"tests/test_broken.py": "def test_fails() -> None:\n    assert 1 + 1 == 3\n"},
        ("1 failed", "tests.test_broken::test_fails"),
    ),
    "coverage-below-minimum": Defect(
        "tests",
        {
            "src/demo/extra.py": "\n\n".join(
                f"def f{i}(x: int) -> int:\n    y = x * {i}\n    return y + {i}\n" for i in range(6)
            )
        },
        ("below the minimum 90%", "src/demo/extra.py 0%"),
    ),
    "flake8-error": Defect(
        "lint",
        {
            "src/demo/bad.py": 'import os\n\n\ndef here() -> str:\n    return "."\n',
            "tests/test_bad.py": "from demo.bad import here\n\n\ndef test_here() -> None:\n"
            '    assert here() == "."\n',
        },
        ("src/demo/bad.py:1:F401",),
    ),
    "mypy-error": Defect(
        "typing",
        {
            "src/demo/typed.py": 'def answer() -> int:\n    return "42"\n',
            "tests/test_typed.py": "from demo.typed import answer\n\n\ndef test_answer() -> None:\n"
            '    assert str(answer()) == "42"\n',
        },
        ("src/demo/typed.py:2", "[return-value]"),
    ),
    "bandit-high": Defect(
        "security",
        {
            "src/demo/shell.py": '"""Runs a command."""\n\nimport subprocess  # nosec B404\n\n\n'
            "def run(command: str) -> int:\n    return subprocess.call(command, shell=True)\n",
            "tests/test_shell.py": "from demo.shell import run\n\n\ndef test_run() -> None:\n"
            '    assert run("true") == 0\n',
        },
        ("src/demo/shell.py:7 B602 HIGH",),
    ),
    "vulnerable-dependency": Defect(
        "security",
        {},
        ("idna==3.6 PYSEC-2024-60",),
        append={"requirements/core.txt": "idna==3.6\n"},
    ),
    "non-reproducible-build": Defect(
        "build",
        {"hatch_build.py": STAMP_HOOK},
        ("demo-0.1.0-py3-none-any.whl differs", "demo/build-stamp.txt"),
        append={"pyproject.toml": STAMP_CONFIG},
    ),
}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", list(DEFECTS))
def test_defect_fails_exactly_its_stage(demo: Demo, name: str) -> None:
    defect = DEFECTS[name]
    files: dict[str, str | None] = dict(defect.files)
    for rel, extra in defect.append.items():
        files[rel] = (demo.root / rel).read_text() + extra
    with planted(demo.root, files):
        results = run_all(demo.root, demo.config(), demo.bin)
    statuses = {n: r.status for n, r in results.items()}
    expected = {n: Status.FAILED if n == defect.stage else Status.PASSED for n in results}
    assert statuses == expected, {n: r.reason for n, r in results.items()}
    reason = results[defect.stage].reason
    for text in defect.expect:
        assert text in reason, reason
