"""`finsig-runner bundle export|verify|import`: the isolated-site bundle (docs/airgap.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from finsig_runner import __version__
from finsig_runner.core import signing
from finsig_runner.bundle import CheckLine, export_bundle, import_bundle, verify_bundle
from finsig_runner.bundle.images import DEFAULT_PATTERNS, DEFAULT_REQUIRED, client_from_env
from finsig_runner.core.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("bundle", help="export, verify or import the isolated-site bundle")
    actions = parser.add_subparsers(dest="bundle_command", metavar="ACTION", required=True)

    export = actions.add_parser(
        "export",
        help="docker save every image into one signed bundle tar",
        description=(
            "Writes OUT (images.tar + manifest.json), OUT.dsse (the signed statement) and OUT.pub. "
            "Default images: every tag matching "
            + ", ".join(DEFAULT_PATTERNS).format(version="VERSION")
            + "; required: "
            + ", ".join(DEFAULT_REQUIRED).format(version="VERSION")
            + "."
        ),
    )
    export.add_argument("out", type=Path, metavar="OUT")
    export.add_argument("--key", type=Path, required=True, metavar="PRIVATE",
                        help="the Ed25519 private key (finsig-runner keygen)")
    export.add_argument("--images", nargs="+", metavar="NAME:TAG",
                        help="bundle exactly these images (each required), not the default set")
    export.add_argument("--release", default=__version__, metavar="VERSION",
                        help=f"the version of the default image set (default {__version__})")
    export.add_argument("--force", action="store_true", help="replace an existing OUT")
    export.set_defaults(func=run_export)

    for name, helptext, func in (
        ("verify", "run every check, load nothing", run_verify),
        ("import", "run every check, then docker load and compare image IDs", run_import),
    ):
        action = actions.add_parser(name, help=helptext)
        action.add_argument("file", type=Path, metavar="FILE")
        action.add_argument(
            "--pubkey", required=True, metavar="KEY|FINGERPRINT",
            help="the public key file, or its fingerprint (then FILE.pub must match it); "
                 "never taken from the bundle on its own",
        )
        action.set_defaults(func=func)


def _print_line(line: CheckLine) -> None:
    print(line.render(), flush=True)


def _trusted(args: argparse.Namespace) -> signing.PublicKey:
    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    return signing.load_public_key(args.pubkey, candidates=[Path(f"{args.file}.pub")])


def run_export(args: argparse.Namespace) -> int:
    key = signing.load_private_key(args.key)
    result = export_bundle(
        args.out, key, client_from_env(), refs=args.images, version=args.release,
        force=args.force, progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    for image in result.images:
        print(f"image        {image.ref} {image.id}")
    print(f"bundle       {result.bundle} ({result.size} bytes, sha256 {result.sha256})")
    print(f"envelope     {result.envelope}")
    print(f"public key   {result.public_key}")
    print(f"fingerprint  {result.fingerprint}")
    print(f"took         {result.seconds:.1f}s")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    verify_bundle(args.file, _trusted(args), _print_line)  # BundleVerificationError -> exit 1
    return 0


def run_import(args: argparse.Namespace) -> int:
    trusted = _trusted(args)
    result = import_bundle(args.file, trusted, client_from_env(), _print_line)
    for line in result.loaded:
        print(line)
    return 0
