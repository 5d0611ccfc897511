"""A small fixture project for the runner image: a package, its tests, and a hash-pinned test lock
cut out of this repository's requirements/test.txt (so every wheel is in the image's wheelhouse)."""

from __future__ import annotations

from pathlib import Path

from tests.support.sample_project import lock_blocks

ROOT = Path(__file__).resolve().parents[2]
TEST_TOOLS = ("pytest", "pytest-cov", "pytest-timeout", "coverage", "iniconfig", "packaging",
              "pluggy", "pygments")

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "tinyproj"
version = "1.0.0"
requires-python = ">=3.11"

[tool.hatch.build.targets.wheel]
packages = ["src/tinyproj"]

[tool.finsig-runner]
pytest_args = ["tests"]
# No app image, monitoring or staging in this project: their SKIPPED counts as passing.
allow_skipped = ["image.*", "monitoring.*", "staging.*"]
"""

MODULE = '''"""A tiny package the runner image's tests run the pipeline over."""


def double(value: int) -> int:
    """Twice the value."""
    return 2 * value
'''

TESTS = '''from pathlib import Path

from tinyproj import double


def test_double() -> None:
    assert double(21) == 42


def test_route_table_seen_from_inside() -> None:
    # The runner image's tests read this: the routing table of the network namespace the run's
    # tests ran in (no traffic is sent).
    route = Path("/proc/net/route")
    if route.is_file():
        Path("reports", "route-table.txt").write_text(route.read_text())
'''

FAILING = '''from tinyproj import double


def test_double_is_wrong() -> None:
    assert double(2) == 5
'''

SLOW = '''import time


def test_slow() -> None:
    time.sleep(300)
'''


def make_project(root: Path, *, failing: bool = False, slow: bool = False) -> Path:
    """Write the fixture project into `root` (which exists) and return it."""
    (root / "src" / "tinyproj").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "requirements").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "src" / "tinyproj" / "__init__.py").write_text(MODULE)
    (root / "tests" / "test_tinyproj.py").write_text(TESTS)
    if failing:
        (root / "tests" / "test_failing.py").write_text(FAILING)
    if slow:
        (root / "tests" / "test_slow.py").write_text(SLOW)
    (root / "requirements" / "core.txt").write_text("# tinyproj has no runtime dependencies\n")
    (root / "requirements" / "test.txt").write_text(
        lock_blocks(ROOT / "requirements" / "test.txt", TEST_TOOLS)
    )
    return root
