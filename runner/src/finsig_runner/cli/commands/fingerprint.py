"""`finsig-runner fingerprint FILE`: the fingerprint of a key file (what expected_signer takes)."""

from __future__ import annotations

import argparse
from pathlib import Path

from finsig_runner.core import signing


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "fingerprint",
        help="print the fingerprint of a public or private key file",
        description=(
            "Prints the sha256 of the raw Ed25519 public key of FILE (a public key PEM, or the "
            "private key PEM it belongs to): the value of expected_signer and of verify --pubkey. "
            "Exit 0 printed, 2 not a usable key file."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    try:
        key: signing.PublicKey | signing.PrivateKey = signing.load_public_key(args.file)
    except signing.KeyFileError:
        key = signing.load_private_key(args.file)  # KeyFileError (exit 2) names the file
    print(signing.fingerprint(key))
    return 0
