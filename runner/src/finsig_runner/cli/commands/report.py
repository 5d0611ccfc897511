"""`finsig-runner report DIR [--pubkey FILE|FINGERPRINT] [--markdown FILE] [--output FILE]`:
render a run's evidence as DIR/reports/index.html (and Markdown) again."""

from __future__ import annotations

import argparse
from pathlib import Path

from finsig_runner.evidence.trust import trusted_key
from finsig_runner.core.errors import UsageError
from finsig_runner.report import render, stage_graph
from finsig_runner.report.render import INDEX, RERENDERED


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "report",
        help="render a run's evidence as reports/index.html (and Markdown) again",
        description=(
            "DIR is a workspace after a run (or a copy of its reports/ and artifacts/). Writes "
            "DIR/reports/index.html: one offline page, no script, nothing loaded from anywhere; "
            "when the run already wrote that page (it is part of the signed evidence), the new "
            "one goes to DIR/reports/index.rendered.html instead, so the evidence still verifies. "
            "With --pubkey (a PEM file outside DIR, or the fingerprint of the key carried in "
            "DIR) the evidence is verified first, signatures required, and the page says whether "
            "it verifies. Exit 0 written; 1 written, but the evidence does not verify with that "
            "key; 2 usage (no such directory, a key inside DIR, no evidence there)."
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR")
    parser.add_argument("--pubkey", metavar="FILE|FINGERPRINT",
                        help="the trusted Ed25519 public key (PEM file) or its pinned fingerprint")
    parser.add_argument("--markdown", type=Path, metavar="FILE",
                        help="also write the report as Markdown (e.g. $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="write the page here (default: DIR/reports/index.html, or "
                             "index.rendered.html beside the run's own page)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from finsig_runner.stages.registry import STAGES

    root = args.directory.resolve()
    if not root.is_dir():
        raise UsageError(f"{args.directory}: not a directory")
    output = args.output
    if output is None and (root / INDEX).exists():
        output = root / RERENDERED
    trusted = trusted_key(root, args.pubkey) if args.pubkey else None
    done = render(root, trusted=trusted, graph=stage_graph(STAGES.values()),
                  output=output, markdown=args.markdown)
    print(f"report: {done.html}")
    if done.markdown is not None:
        print(f"report: {done.markdown}")
    if done.verified is False:
        print("report: the evidence does NOT verify with the key given (the page says where)")
        return 1
    if done.verified:
        print("report: the evidence verifies with the key given")
    return 0
