"""`finsig-runner keygen DIR`: an Ed25519 key pair for signing bundles and evidence."""

from __future__ import annotations

import argparse
from pathlib import Path

from finsig_runner.core import signing


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "keygen",
        help="write an Ed25519 signing key pair (refuses to overwrite)",
        description=(
            f"Writes DIR/{signing.PRIVATE_KEY_NAME} (PKCS#8 PEM, mode 0600) and "
            f"DIR/{signing.PUBLIC_KEY_NAME} (SubjectPublicKeyInfo PEM) and prints the public key's "
            "fingerprint (sha256 of the raw key). Carry the fingerprint to verifiers separately."
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    files = signing.write_keypair(args.directory)  # KeyExistsError -> exit 2
    print(f"private key  {files.private} (mode 0600: keep it at the connected site)")
    print(f"public key   {files.public}")
    print(f"fingerprint  {files.fingerprint}")
    return 0
