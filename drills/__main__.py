"""`make drills`: the reliability drills, outside `make test`, then docs/reliability.md.

    .venv/bin/python -m drills [PART ...] [--fresh] [--only NAMES] [--seed N] [--runs N]
                               [--examples N] [--no-render]

PART is all (the default: faults, soak, interrupts, durability, fuzz, in that order), one or more
of those, or render (only write docs/reliability.md again). Each part keeps one raw JSON file per
item under drills/results/<part>/ and skips the items it already has, so an interrupted part
resumes where it stopped; --fresh forgets a part's items first (with --only, those faults' only).
The whole takes about two hours on 2 cores; each part runs alone.

Exit status: 0 every drill as expected; 1 findings (a fault not caught, a soak or interrupted run
not clean, a write lost, a server error); 3 a part could not run; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import subprocess  # nosec B404
import sys
import tempfile
import traceback
from pathlib import Path

from drills import fault_run, fuzz, interrupts, render, soak
from drills.project import WORK
from drills.store import Store

PARTS = ("faults", "soak", "interrupts", "durability", "fuzz")


def run_durability(fresh: bool) -> int:
    """drills/durability.py once, its JSON kept as the part's one item (with its exit status)."""
    import json

    store = Store("durability")
    if fresh:
        store.fresh()
    if store.done("durability"):
        print("durability: done before, skipped (--fresh runs it again)", flush=True)
        return 0
    WORK.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="durability-", dir=WORK) as tmp:
        output = Path(tmp) / "durability.json"
        argv = [sys.executable, "-m", "drills.durability", "--output", str(output)]
        code = subprocess.run(argv, cwd=render.ROOT, check=False).returncode  # nosec B603
        if not output.is_file():
            raise RuntimeError(f"drills.durability exited {code} without a result")
        store.write("durability", {**json.loads(output.read_text(encoding="utf-8")),
                                   "exit_code": code})
    return 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m drills", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["all"], metavar="PART",
                        choices=["all", "render", *PARTS])
    parser.add_argument("--fresh", action="store_true",
                        help="forget the chosen parts' earlier results (with --only: those "
                        "faults' only) and run them again")
    parser.add_argument("--only", metavar="NAMES", help="faults: only these (comma-separated)")
    parser.add_argument("--seed", type=int, help="faults, interrupts, fuzz: the seed")
    parser.add_argument("--runs", type=int, help=f"soak ({soak.RUNS}) / interrupts "
                        f"({interrupts.RUNS}): how many runs")
    parser.add_argument("--examples", type=int, default=fuzz.EXAMPLES,
                        help=f"fuzz: examples per operation ({fuzz.EXAMPLES})")
    parser.add_argument("--no-render", action="store_true", help="do not write the doc")
    options = parser.parse_args(argv)
    if "all" in options.parts:
        options.parts = list(PARTS)
    return options


def run_one_part(part: str, options: argparse.Namespace) -> None:
    only = options.only.split(",") if options.only else None
    if part == "faults":
        fault_run.run_part(only, options.fresh, options.seed)
    elif part == "soak":
        soak.run_part(options.runs or soak.RUNS, options.fresh)
    elif part == "interrupts":
        interrupts.run_part(options.runs or interrupts.RUNS, options.fresh, options.seed)
    elif part == "durability":
        run_durability(options.fresh)
    elif part == "fuzz":
        fuzz.run_part(options.examples, options.fresh, options.seed)


def main(argv: list[str] | None = None) -> int:
    options = parse(sys.argv[1:] if argv is None else argv)
    broken: list[str] = []
    try:
        for part in [p for p in options.parts if p != "render"]:
            try:
                run_one_part(part, options)
            except Exception as exc:  # one part broken: say so, run the others, exit 3
                traceback.print_exc()
                broken.append(f"{part}: {exc}")
                print(f"drills: {part} could not run: {exc}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("drills: interrupted; finished items are kept, a re-run resumes", file=sys.stderr)
        return 130
    summary = render.load_summary()
    if not options.no_render:
        path = render.write()
        print(f"drills: wrote {os.path.relpath(path)}: {summary.compass()}", flush=True)
    if broken:
        return 3
    return 0 if summary.all_as_expected() else 1


if __name__ == "__main__":
    sys.exit(main())
