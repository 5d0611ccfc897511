"""`finsig-runner verify-log FILE`: check an event log's chain, naming the first broken line."""

from __future__ import annotations

import argparse
from pathlib import Path

from finsig_runner.core.errors import UsageError
from finsig_runner.core.events import verify_chain


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("verify-log", help="verify the hash chain of an event log")
    parser.add_argument("file", type=Path, metavar="FILE", help="e.g. artifacts/ci_cd_events.log")
    parser.add_argument("--expect-hash", metavar="SHA256",
                        help="the chain hash published elsewhere (catches a truncated log)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    # ChainBrokenError -> exit 1, naming the line
    result = verify_chain(args.file, args.expect_hash)
    print(f"{args.file}: chain intact, {result.lines} lines, chain hash {result.chain_hash}")
    return 0
