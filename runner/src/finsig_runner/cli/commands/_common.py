"""Helpers shared by the subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_workspace(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workspace",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="the project to work on (default: the current directory)",
    )


def add_trust(parser: argparse.ArgumentParser, what: str) -> None:
    """--pubkey (repeatable) and --allow-unsigned: which seals make another run's evidence
    acceptable (docs/threat-model.md)."""
    parser.add_argument("--pubkey", dest="pubkeys", action="append", metavar="FILE|FINGERPRINT",
                        help=f"a key that may have sealed the {what}'s evidence: a PEM file you "
                             "hold, or a pinned fingerprint (repeatable)")
    parser.add_argument("--allow-unsigned", action="store_true",
                        help=f"take unsigned {what} evidence (local use; recorded)")
