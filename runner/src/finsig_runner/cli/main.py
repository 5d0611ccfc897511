"""finsig-runner's command line: argparse, one subcommand per module in finsig_runner.cli.commands.

main() is the last-resort handler (pre-commit style): a FinsigRunnerError exits with its class's
code and a one-line message; Ctrl-C exits 130; anything unexpected exits 3 with the traceback in
reports/logs/crash.log (under the workspace when one was given, else the current directory).
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from finsig_runner import __version__
from finsig_runner.cli.commands import COMMANDS
from finsig_runner.core.errors import ExitCode, FinsigRunnerError


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error, which is already our configuration/usage code."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="finsig-runner",
        description="FINSIG pipeline-in-a-box: run CI/CD stages offline and record the evidence.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"finsig_runner.cli.commands.{name}")
        module.register(sub)
    return parser


def _crash_log(args: argparse.Namespace | None, exc: BaseException) -> Path:
    workspace = getattr(args, "workspace", None) if args is not None else None
    base = Path(workspace) if workspace else Path.cwd()
    path = base / "reports" / "logs" / "crash.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"### finsig-runner {__version__} crashed\n")
            log.write(f"python {platform.python_version()} on {platform.platform()}\n")
            log.write(f"argv: {sys.argv!r}\n")
            log.write("".join(traceback.format_exception(exc)))
            log.write("\n")
    except OSError:
        path = Path("/dev/stderr")
        traceback.print_exception(exc)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    args: argparse.Namespace | None = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        code: int = args.func(args)
        return code
    except FinsigRunnerError as exc:
        print(f"finsig-runner: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("finsig-runner: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:  # the last resort: never a bare traceback, always a crash log
        where = _crash_log(args, exc)
        print(
            f"finsig-runner: unexpected error {type(exc).__name__}: {exc}\n"
            f"finsig-runner: the traceback is in {where}; please report it",
            file=sys.stderr,
        )
        return int(ExitCode.TOOL_ERROR)
