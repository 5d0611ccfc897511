"""CLI subcommands, one module each.

A module listed in COMMANDS exposes
    def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None
which adds its parser and sets `func` (a callable taking the parsed args, returning the exit code)
with set_defaults. cli.main() imports every module named here, in this order.
"""

from __future__ import annotations

COMMANDS: tuple[str, ...] = (
    "run", "list", "verify_log", "keygen", "fingerprint", "bundle", "verify", "validate", "seal",
    "clean", "report",
)
