"""`python -m finsig_runner.oci normalise|layout|verify|diff|pycs`: reproducible images.

Exit codes: 0 done (and for diff: the images are the same; for pycs: none found), 1 the images
differ, an image or layout is invalid, or pycs were found, 2 usage (bad arguments, a missing
input, no SOURCE_DATE_EPOCH), 3 the machine failed (disk full, I/O error).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from finsig_runner.core.errors import ExitCode, FinsigRunnerError
from finsig_runner.oci.diff import diff_images
from finsig_runner.oci.errors import OciUsageError
from finsig_runner.oci.layer import MtimeMode
from finsig_runner.oci.layout import write_layout
from finsig_runner.oci.layout_read import verify_layout
from finsig_runner.oci.normalise import NormaliseOptions, NormaliseResult, normalise
from finsig_runner.oci.pyc import image_timestamp_pycs
from finsig_runner.oci.source import open_image

PROG = "python -m finsig_runner.oci"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0] if __doc__
                                  else None, epilog=__doc__.split("\n\n")[1] if __doc__ else None)
    commands = top.add_subparsers(dest="command", required=True)
    norm = commands.add_parser("normalise", help="rewrite a docker save archive reproducibly",
                               description="Rewrite a `docker save` archive so that two builds "
                               "of one recipe give the same bytes (docs/images.md).")
    norm.add_argument("source", type=Path, help="the archive docker save wrote")
    norm.add_argument("target", type=Path, help="the normalised archive to write")
    norm.add_argument("--epoch", type=int, help="SOURCE_DATE_EPOCH (default: the environment's)")
    norm.add_argument("--tag", action="append", default=[], help="RepoTag to record instead of "
                      "the source's (repeatable)")
    norm.add_argument("--keep-diff-id", action="append", default=[], metavar="DIGEST",
                      help="copy the layer with this diff_id unchanged (repeatable)")
    norm.add_argument("--mtime", choices=[m.value for m in MtimeMode], default="clamp",
                      help="clamp mtimes to the epoch (default) or set every mtime to it")
    lay = commands.add_parser("layout", help="write an OCI image layout from a docker-archive")
    lay.add_argument("archive", type=Path)
    lay.add_argument("directory", type=Path, help="created if absent; an existing layout gains "
                     "the image")
    lay.add_argument("--ref", help="org.opencontainers.image.ref.name (default: the RepoTag)")
    ver = commands.add_parser("verify", help="check every blob digest and size of a layout")
    ver.add_argument("directory", type=Path)
    dif = commands.add_parser("diff", help="name what differs between two images "
                              "(docker-archives or OCI layouts)")
    dif.add_argument("first", type=Path)
    dif.add_argument("second", type=Path)
    dif.add_argument("--ref-first", help="the image to take from the first layout")
    dif.add_argument("--ref-second", help="the image to take from the second layout")
    dif.add_argument("--max-files", type=int, default=50, help="files listed (default 50)")
    pyc = commands.add_parser("pycs", help="list timestamp-based pyc files of an image")
    pyc.add_argument("image", type=Path, help="a docker-archive or an OCI layout")
    pyc.add_argument("--ref", help="the image to take from a layout")
    pyc.add_argument("--newer-than", type=int, metavar="EPOCH",
                     help="only pycs whose source time is later (e.g. SOURCE_DATE_EPOCH)")
    for sub in (norm, lay, ver, dif, pyc):
        sub.add_argument("--json", action="store_true", help="print the result as JSON")
    return top


def _epoch(given: int | None) -> int:
    if given is not None:
        return given
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text.isdigit():
        raise OciUsageError("no SOURCE_DATE_EPOCH: pass --epoch N or set SOURCE_DATE_EPOCH "
                            "(the time of the commit the image is built from)")
    return int(text)


def _print(args: argparse.Namespace, document: dict[str, Any], text: str) -> None:
    print(json.dumps(document, indent=2, sort_keys=True) if args.json else text)


def _normalise(args: argparse.Namespace) -> int:
    options = NormaliseOptions(_epoch(args.epoch), MtimeMode(args.mtime), tuple(args.tag),
                               frozenset(args.keep_diff_id))
    result = normalise(args.source, args.target, options)
    _print(args, result.to_json(), _normalise_text(result))
    return ExitCode.OK


def _normalise_text(result: NormaliseResult) -> str:
    text = (f"normalise: {result.path} = image {result.image_id} ({len(result.diff_ids)} "
            f"layers, {len(result.kept)} kept as they were, {result.seconds:.1f}s)")
    if result.timestamp_pycs:
        names = ", ".join(p.path for p in result.timestamp_pycs[:5])
        text += (f"\nnormalise: note: {len(result.timestamp_pycs)} timestamp-based pycs stamped "
                 f"at build time (set SOURCE_DATE_EPOCH in the RUN steps): {names}")
    return text


def _layout(args: argparse.Namespace) -> int:
    result = write_layout(args.archive, args.directory, args.ref)
    _print(args, result.to_json(), f"layout: {result.path}:{result.ref_name} = manifest "
           f"{result.manifest.digest} (config {result.config.digest}, {len(result.layers)} "
           "uncompressed layers)")
    return ExitCode.OK


def _verify(args: argparse.Namespace) -> int:
    report = verify_layout(args.directory)
    _print(args, report.to_json(), f"verify: {report.path}: {len(report.images)} images, "
           f"{report.blobs} blobs, {report.bytes} bytes: every digest and size matches")
    return ExitCode.OK


def _diff(args: argparse.Namespace) -> int:
    with open_image(args.first, args.ref_first) as first, \
            open_image(args.second, args.ref_second) as second:
        result = diff_images(first, second, args.max_files)
    _print(args, result.to_json(), f"diff: {result.describe()}")
    return ExitCode.OK if result.same else ExitCode.FINDINGS


def _pycs(args: argparse.Namespace) -> int:
    with open_image(args.image, args.ref) as image:
        found = image_timestamp_pycs(image, args.newer_than)
    lines = [f"layer {p.layer}: {p.path} (source mtime {p.source_mtime})" for p in found]
    _print(args, {"timestamp_pycs": [p.to_json() for p in found]},
           "\n".join([f"pycs: {len(found)} timestamp-based pycs", *lines]))
    return ExitCode.FINDINGS if found else ExitCode.OK


COMMANDS = {"normalise": _normalise, "layout": _layout, "verify": _verify, "diff": _diff,
            "pycs": _pycs}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(COMMANDS[args.command](args))
    except FinsigRunnerError as exc:
        print(f"oci {args.command}: {exc}", file=sys.stderr)
        return int(exc.exit_code)


if __name__ == "__main__":
    sys.exit(main())
