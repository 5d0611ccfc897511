"""`finsig-runner seal DIR --key FILE`: sign a finished run's evidence (docs/threat-model.md).

The one command that holds the signing key. Run it after the run's process and containers are
gone, where no project code runs: `make pipeline KEY=…` and scripts/pipeline.sh do it in a
container of its own after the run's container has exited; in CI it is a job of its own.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from finsig_runner.containers.sweep import run_leftovers
from finsig_runner.core.errors import UsageError
from finsig_runner.core.processes import run_processes
from finsig_runner.evidence.files import DOCUMENT
from finsig_runner.evidence.seal import Leftovers, SealRefused, seal


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "seal",
        help="sign a finished run's evidence with the key the run never had",
        description=(
            "DIR is a workspace after a run (or a merge). Refuses (exit 1) while a process or a "
            "container of the run is alive, when the evidence does not verify, when the key is "
            "not the expected_signer the run named, or when the key appears in the evidence; "
            "then writes the DSSE envelopes of the document, the event-log seal and the "
            "provenance. Exit 0 sealed, 1 refused, 2 usage, 3 the key is unusable."
        ),
    )
    parser.add_argument("directory", type=Path, metavar="DIR")
    parser.add_argument("--key", type=Path, required=True, metavar="FILE",
                        help="the Ed25519 private key (PKCS#8 PEM); keep it outside DIR")
    parser.set_defaults(func=main)


def _leftovers(root: Path) -> Leftovers:
    try:
        doc = json.loads((root / DOCUMENT).read_bytes())
        run_id, started = str(doc["run_id"]), str(doc["started"])
        since = datetime.fromisoformat(started.replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SealRefused(f"refused: no readable {DOCUMENT} in {root} ({exc})") from exc
    containers, asked = run_leftovers(run_id, root, since)
    return Leftovers(tuple(run_processes(run_id)), tuple(containers), asked)


def main(args: argparse.Namespace) -> int:
    root = args.directory.resolve()
    if not root.is_dir():
        raise UsageError(f"{args.directory}: not a directory")
    if args.key.resolve().is_relative_to(root):
        raise UsageError(f"--key {args.key}: the signing key must not be inside {root} (the run "
                         "and anything it started could read it there)")
    done = seal(root, args.key, _leftovers(root))
    for envelope in done.envelopes:
        print(f"seal: {envelope}")
    extra = f" ({done.note})" if done.note else ""
    print(f"seal: run {done.run_id} sealed by {done.signer}{extra}")
    return 0
