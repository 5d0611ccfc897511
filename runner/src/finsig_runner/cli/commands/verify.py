"""`finsig-runner verify DIR --pubkey FILE|FINGERPRINT`: check evidence offline, line by line."""

from __future__ import annotations

import argparse
from pathlib import Path

from finsig_runner.core import signing
from finsig_runner.core.errors import UsageError
from finsig_runner.evidence.verify import FAIL, verify_dir
from finsig_runner.evidence.files import PUBLIC_KEY


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "verify",
        help="verify a run's evidence offline (schema, hashes, event log, signatures)",
        description=(
            "DIR is a workspace (or a copy of its reports/ and artifacts/) holding "
            "artifacts/artifact-validation.json. The public key is the one you hold: a PEM file "
            "outside DIR, or a fingerprint (sha256 of the raw key) that the key carried in DIR "
            "must match. A key inside DIR is never trusted on its own. Giving a key means the "
            "evidence must be signed by it: a copy stripped of its signatures fails. Exit 0 when "
            "every check passes, 1 naming the first failure."
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR")
    parser.add_argument("--pubkey", metavar="FILE|FINGERPRINT",
                        help="the trusted Ed25519 public key (PEM file) or its pinned fingerprint")
    parser.add_argument("--require-signature", action="store_true",
                        help="unsigned (or unchecked) evidence fails (implied by --pubkey)")
    parser.set_defaults(func=main)


def trusted_key(root: Path, pubkey: str | None) -> signing.PublicKey | None:
    if pubkey is None:
        return None
    if signing.is_fingerprint(pubkey):
        return signing.load_public_key(pubkey, [root / PUBLIC_KEY])
    path = Path(pubkey).resolve()
    if path.is_relative_to(root):
        raise UsageError(f"--pubkey {pubkey}: a key inside {root} is never trusted; give a key "
                         "you hold, or pin its fingerprint")
    return signing.load_public_key(path)


def main(args: argparse.Namespace) -> int:
    root = args.directory.resolve()
    if not root.is_dir():
        raise UsageError(f"{args.directory}: not a directory")
    # Whoever holds a key expects signatures: without this, stripping every envelope and
    # rewriting the document would pass as merely "unsigned".
    require = args.require_signature or args.pubkey is not None
    report = verify_dir(root, trusted_key(root, args.pubkey), require)
    for line in report.lines:
        print(line.render())
    failure = report.failure
    if failure is not None:
        print(f"verify: FAILED at {failure.name}: {failure.detail}")
        return 1
    unsigned = any("UNSIGNED" in line.detail or "not checked" in line.detail
                   for line in report.lines if line.result != FAIL)
    print(f"verify: OK{' (UNSIGNED or unchecked signatures: see above)' if unsigned else ''}")
    return 0


__all__ = ["FAIL", "main", "register", "trusted_key"]
