"""`finsig-runner verify DIR --pubkey FILE|FINGERPRINT`: check evidence offline, line by line."""

from __future__ import annotations

import argparse
from pathlib import Path

from finsig_runner.core.errors import UsageError
from finsig_runner.evidence.trust import trusted_key
from finsig_runner.evidence.verify import Outcome, verify_evidence


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "verify",
        help="verify a run's evidence offline (schema, hashes, event log, signatures)",
        description=(
            "DIR is a workspace (or a copy of its reports/ and artifacts/) holding "
            "artifacts/artifact-validation.json. The public key is the one you hold: a PEM file "
            "outside DIR, or a fingerprint (sha256 of the raw key) that the key carried in DIR "
            "must match. A key inside DIR is never trusted on its own. Giving a key means the "
            "evidence must be sealed by it: a copy stripped of its signatures fails, and so does "
            "a key that is not the signer the evidence expects. A PARTIAL run has no verdict: "
            "it fails unless --allow-partial. Exit 0 when every check passes, 1 naming the "
            "first failure, 2 usage."
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR")
    parser.add_argument("--pubkey", metavar="FILE|FINGERPRINT",
                        help="the trusted Ed25519 public key (PEM file) or its pinned fingerprint")
    parser.add_argument("--require-signature", action="store_true",
                        help="unsigned (or unchecked) evidence fails (implied by --pubkey)")
    parser.add_argument("--allow-partial", action="store_true",
                        help="a PARTIAL run (no verdict) is not a failure")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    root = args.directory.resolve()
    if not root.is_dir():
        raise UsageError(f"{args.directory}: not a directory")
    # Whoever holds a key expects signatures: without this, stripping every envelope and
    # rewriting the document would pass as merely "unsigned".
    trusted = trusted_key(root, args.pubkey) if args.pubkey else None
    report = verify_evidence(root, trusted, args.require_signature, args.allow_partial)
    for line in report.lines:
        print(line.render())
    failure = report.failure
    if failure is not None:
        print(f"verify: FAILED at {failure.name}: {failure.detail}")
        return 1
    unsealed = any(line.result is Outcome.NOTE and line.name.startswith("signature")
                   for line in report.lines)
    print(f"verify: OK{' (not sealed, or signatures not checked: see above)' if unsealed else ''}")
    return 0
