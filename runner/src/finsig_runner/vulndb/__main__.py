"""`python -m finsig_runner.vulndb build|version|show`.

Exit codes: 0 done, 1 the source or the database is unusable, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from finsig_runner.vulndb.build import BuildRequest, build, converter_version
from finsig_runner.vulndb.errors import VulnDbError
from finsig_runner.vulndb.reader import read_metadata

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: str) -> str:
    if not _DATE.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not YYYY-MM-DD")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m finsig_runner.vulndb",
        description="Build the offline vulnerability database safety 3.7.0 reads with --db DIR.",
    )
    commands = top.add_subparsers(dest="command", required=True)
    make = commands.add_parser(
        "build",
        help="convert advisory data into DIR",
        description="Convert an OSV archive or directory, or a safety-db wheel or directory, "
        "into safety's schema 2.0.0 (insecure.json, insecure_full.json) plus finsig-vulndb.json. "
        "With several --source, the one whose data is freshest is used.",
    )
    make.add_argument("--source", action="append", required=True, type=Path, metavar="PATH")
    make.add_argument("--out", required=True, type=Path, metavar="DIR")
    make.add_argument("--source-date", type=_date, metavar="YYYY-MM-DD",
                      help="the data's date when it cannot tell (default: newest `modified`)")
    make.add_argument("--label", help='how the source is named, e.g. "owner/repo@commit (OSV)"')
    commands.add_parser("version", help="print the converter version (part of the rebuild key)")
    show = commands.add_parser("show", help="print and verify DIR/finsig-vulndb.json")
    show.add_argument("db", type=Path, metavar="DIR")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "version":
            print(converter_version())
        elif args.command == "show":
            print(json.dumps(read_metadata(args.db).to_json(), indent=2, sort_keys=True))
        else:
            started = time.monotonic()
            request = BuildRequest(tuple(args.source), args.out, args.source_date, args.label)
            meta = build(request)
            skipped = ", ".join(f"{k} {v}" for k, v in meta.skipped.items()) or "nothing"
            print(
                f"vulndb: {meta.advisories} advisories for {meta.packages} packages from "
                f"{meta.source} dated {meta.source_date} -> {args.out} "
                f"({time.monotonic() - started:.1f}s; skipped: {skipped})"
            )
    except VulnDbError as exc:
        print(f"vulndb: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
