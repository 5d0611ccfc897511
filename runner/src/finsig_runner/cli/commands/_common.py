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
