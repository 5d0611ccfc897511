"""`finsig-runner validate --merge DIR...`: one validation, with the verdict, over partial runs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from finsig_runner.cli.commands._common import add_trust, add_workspace
from finsig_runner.evidence.trust import Trust
from finsig_runner.core.config_loader import load
from finsig_runner.core.model import RunStatus
from finsig_runner.evidence.files import DOCUMENT
from finsig_runner.evidence.merge import merge


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "validate",
        help="merge the evidence of partial runs (CI jobs) into one validation with the verdict",
        description=(
            "Each DIR is one job's workspace (reports/ and artifacts/), inside --workspace. Each "
            "job must be sealed by a key given with --pubkey (its signatures are checked before "
            "anything else is read), and its event log must verify; --allow-unsigned takes "
            "unsigned jobs and says so in the merged document. The merged "
            "artifacts/artifact-validation.json gives the verdict; seal it with `finsig-runner "
            "seal`. Exit 0 PASSED, 1 FAILED or evidence refused, 2 usage."
        ),
    )
    add_workspace(parser)
    parser.add_argument("--merge", nargs="+", type=Path, required=True, metavar="DIR",
                        help="job directories to merge")
    add_trust(parser, "job")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a configuration key (repeatable)")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    from finsig_runner.stages.registry import stages_for

    workspace: Path = args.workspace.resolve()
    config = load(workspace, os.environ, args.overrides)
    declared = {name: tuple(s.checks) for name, s in stages_for(config).items()
                if name != "validate"}
    written = merge(workspace, args.merge, config, declared,
                    Trust.of(args.pubkeys, args.allow_unsigned))
    doc = written.document
    for stage in doc["stages"]:
        print(f"{stage['name']:<12} {stage['status']:<8} (job {stage['run_id']})")
    for failure in (doc["verdict"] or {}).get("failures", []):
        print(f"  required {failure['id']}: {failure['status']} {failure['reason']}")
    if written.errors:
        print(f"validate: the merged document breaks the schema: {written.errors[0]}")
        return 1
    unsigned = [j["root"] for j in doc["jobs"] if j["signed_by"] is None]
    taken = f", UNSIGNED jobs taken: {', '.join(unsigned)}" if unsigned else ""
    signer = doc["signing"]["expected_signer"]
    sealing = f"seal it with the key {signer[:16]}…" if signer else doc["signing"]["reason"]
    print(f"validate: {doc['status']} over {len(doc['jobs'])} job(s){taken}; {sealing}: "
          f"{workspace / DOCUMENT}")
    return 0 if RunStatus(doc["status"]) is RunStatus.PASSED else 1
