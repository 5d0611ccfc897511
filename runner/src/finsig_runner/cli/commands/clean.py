"""`finsig-runner clean`: remove what ended runs left in Docker (a killed runner never tears down).

Everything the pipeline creates carries the label org.finsig.run=<run id> and its owner (host,
process id, process start time). A run is over when its owning process is gone, or when the
runner container that owned it is not running; only those runs' containers, networks, volumes
and images are removed, unless --force (every finsig run) or --run ID (that run, if over).
"""

from __future__ import annotations

import argparse

from finsig_runner.containers import resources as docker_resources
from finsig_runner.core.errors import ToolError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "clean",
        help="remove containers, networks, volumes and images of finsig runs that are over",
        description=(
            f"Removes every Docker object labelled {docker_resources.RUN_LABEL} whose run is over "
            "(its runner process or runner container is gone). Exit 0 when nothing of such a "
            "run remains, 3 when something could not be removed."
        ),
    )
    parser.add_argument("--run", metavar="ID", help="only this run")
    parser.add_argument("--force", action="store_true",
                        help="also runs that look alive or whose owner cannot be judged")
    parser.add_argument("--dry-run", action="store_true", help="say what would go, remove nothing")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import docker
    import docker.errors

    try:
        client = docker.from_env(timeout=60)
        client.ping()
    except docker.errors.DockerException as exc:
        raise ToolError(f"no Docker engine: {exc}") from exc
    try:
        if args.dry_run:
            states = docker_resources.runs(client)
            for run, state in sorted(states.items()):
                if args.run and run != args.run:
                    continue
                gone = args.force or state.owner.over
                print(f"{'would remove' if gone else 'keep':<12} run {run}: {state.owner.why}")
            if not states:
                print("nothing labelled by a finsig run")
            return 0
        removal, states = docker_resources.clean(client, force=args.force, run_id=args.run)
    finally:
        client.close()
    for run, state in sorted(states.items()):
        gone = args.force or state.owner.over
        print(f"{'removed' if gone else 'kept':<8} run {run}: {state.owner.why}")
    for item in removal.removed:
        print(f"  - {item.kind} {item.name}")
    for problem in removal.errors:
        print(f"  ! {problem}")
    if not states:
        print("nothing labelled by a finsig run")
    return 3 if removal.errors else 0
