#!/usr/bin/env bash
# The control reports: tests with coverage and JUnit, flake8, mypy strict, bandit and safety —
# the runner's tests, lint, typing and security stages. Thin wrapper: the runner does the work.
set -euo pipefail
cd "$(dirname "$0")/.."

STAGES=tests,lint,typing,security

usage() {
  cat <<USAGE
Usage: scripts/reports.sh [--help] [RUN OPTIONS...]
Runs 'finsig-runner run --only $STAGES' over this repository. reports/ gets coverage.xml,
test-results.xml, flake8 and mypy reports (combined into lint-report.txt), security-report.json;
the run ends PARTIAL (only a full run or 'validate --merge' gives the verdict).
RUN OPTIONS (e.g. --jobs 2, --set coverage_min=90, --dry-run) go to 'run'.
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
exec "$runner" run --only "$STAGES" "$@"
