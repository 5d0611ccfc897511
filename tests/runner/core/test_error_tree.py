"""One error tree (issue 12): every public exception class of the runner derives from
FinsigRunnerError and carries an ExitCode. A class named with a leading underscore is private
control flow and stays inside its module."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import finsig_runner
from finsig_runner.core.errors import ExitCode, FinsigRunnerError

pytestmark = pytest.mark.timeout(60)

# Nothing of the runner stays outside the one error tree (private control flow aside).
ALLOWED: set[str] = set()


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(finsig_runner.__path__, "finsig_runner."):
        if info.name.rsplit(".", 1)[-1] == "__main__":  # runs the command line when imported
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__ == info.name):
                found[f"{info.name}.{name}"] = value
    return found


def test_every_public_exception_is_in_the_tree_with_an_exit_code() -> None:
    strays = []
    for name, cls in sorted(_exception_classes().items()):
        if name.rsplit(".", 1)[-1].startswith("_") or name in ALLOWED:
            continue
        if not issubclass(cls, FinsigRunnerError):
            strays.append(f"{name} ({', '.join(b.__name__ for b in cls.__mro__[1:-1])})")
        elif not isinstance(cls.exit_code, ExitCode):
            strays.append(f"{name}: exit_code {cls.exit_code!r} is not an ExitCode")
    assert not strays, "outside the error tree:\n" + "\n".join(strays)


def test_the_allow_list_only_shrinks() -> None:
    classes = _exception_classes()
    stale = [name for name in sorted(ALLOWED)
             if name not in classes or issubclass(classes[name], FinsigRunnerError)]
    assert not stale, f"in the tree now (or gone): remove from ALLOWED: {stale}"


def test_the_scan_finds_the_known_branches() -> None:
    classes = _exception_classes()
    for name, code in (
        ("finsig_runner.containers.compose.model.ComposeError", ExitCode.CONFIG),
        ("finsig_runner.containers.waits.Stopped", ExitCode.INTERRUPTED),
        ("finsig_runner.containers.waits.StackError", ExitCode.TOOL_ERROR),
        ("finsig_runner.vulndb.errors.VulnDbError", ExitCode.FINDINGS),
        ("finsig_runner.vulndb.errors.VulnDbUsageError", ExitCode.CONFIG),
        ("finsig_runner.core.graph.CycleFound", ExitCode.CONFIG),
    ):
        assert classes[name].exit_code is code, name
