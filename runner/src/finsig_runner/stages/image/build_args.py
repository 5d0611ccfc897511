"""The app image's build arguments VERSION, REVISION and CREATED, from one function for the image
stage and for scripts/build-app-image.sh (`python -m finsig_runner.stages.image.build_args`).

Scope: the app image's inputs, the paths its context script declares (`--print-inputs`; finsig's
come from the image set). REVISION is the last commit touching them (`-dirty` while they have
uncommitted changes), CREATED that commit's time, so a commit elsewhere changes neither and the
image `make images` builds and the one the stage builds carry the same labels. Without declared
inputs the scope is HEAD. VERSION is the wheel's, or the project's when no wheel is given.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from finsig_runner.core.errors import ConfigError
from finsig_runner.core.source import (
    GitRun,
    project_version,
    rfc3339,
    source_date_epoch,
    source_revision,
)

_WHEEL = re.compile(r"^[^-]+-([^-]+)-.+\.whl$")


@dataclass(frozen=True)
class BuildArgs:
    version: str
    revision: str
    created: str

    def as_dict(self) -> dict[str, str]:
        return {"VERSION": self.version, "REVISION": self.revision, "CREATED": self.created}

    def lines(self) -> str:
        """KEY=VALUE lines, the form `--print-build-args` prints."""
        return "".join(f"{key}={value}\n" for key, value in self.as_dict().items())


def wheel_version(wheel: Path) -> str:
    """The version in a wheel's file name (name-version-python-abi-platform.whl)."""
    match = _WHEEL.match(wheel.name)
    if not match:
        raise ConfigError(f"{wheel.name} is not a wheel file name (name-version-...-.whl)")
    return match.group(1)


def app_build_args(
    root: Path, inputs: Sequence[str], wheel: Path | None = None, git: GitRun | None = None,
) -> BuildArgs:
    version = wheel_version(wheel) if wheel is not None else project_version(root)
    revision = source_revision(root, inputs, git)
    created = rfc3339(source_date_epoch(root, inputs, git))
    return BuildArgs(version, revision, created)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m finsig_runner.stages.image.build_args",
        description="Print the app image's build arguments as KEY=VALUE lines.",
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="the repository (default .)")
    parser.add_argument("--wheel", type=Path, help="the wheel the image installs (its version)")
    parser.add_argument("inputs", nargs="*", metavar="PATH", help="the image's inputs")
    args = parser.parse_args(argv)
    try:
        built = app_build_args(args.root, args.inputs, args.wheel)
    except ConfigError as exc:
        print(f"build_args: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    sys.stdout.write(built.lines())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
