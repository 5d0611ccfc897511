#!/usr/bin/env bash
# Package finsig: the runner's `build` stage (wheel + sdist built twice from clean copies and
# compared byte for byte, twine check, offline install). Thin wrapper: the runner does the work.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<USAGE
Usage: scripts/build.sh [--help] [RUN OPTIONS...]
Runs 'finsig-runner run --only build' over this repository: artifacts/ gets the wheel, the sdist
and their hashes; reports/stages/build.json the checks (build.build, build.reproducible,
build.twine, build.install). RUN OPTIONS (e.g. --set wheelhouse=DIR, --dry-run) go to 'run'.
Runner: \$FINSIG_RUNNER, else .venv/bin/finsig-runner (make deps), else finsig-runner on PATH.
Exit code: the runner's (0 passed, 1 findings, 2 usage, 3 tool error).
USAGE
}

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  usage
  exit 0
fi

# shellcheck source=scripts/lib/runner.sh
source scripts/lib/runner.sh
exec "$runner" run --only build "$@"
