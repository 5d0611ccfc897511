#!/usr/bin/env bash
# The verdict and its check: merge the evidence of separate partial runs into one validation
# (finsig-runner validate --merge), or verify an evidence directory offline (finsig-runner
# verify). Thin wrapper: the runner does the work.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<USAGE
Usage: scripts/validate.sh [--help] merge DIR... --pubkey FILE|FINGERPRINT [--allow-unsigned]
       scripts/validate.sh [--help] verify DIR --pubkey FILE
       scripts/validate.sh [--help] log FILE
  merge DIR...   one validation (artifacts/artifact-validation.json) over the evidence of several
                 partial runs, each sealed by a key given with --pubkey (seal the merge with
                 finsig-runner seal): finsig-runner validate --merge
  verify DIR     check DIR's evidence offline (schema, hashes, event-log chain, signatures) with a
                 public key you were given: finsig-runner verify
  log FILE       check an event log's hash chain: finsig-runner verify-log
Runner: \$FINSIG_RUNNER, else .venv/bin/finsig-runner (make deps), else finsig-runner on PATH.
Exit code: the runner's.
USAGE
}

if (($# == 0)); then
  usage >&2
  exit 2
fi

# shellcheck source=scripts/lib/runner.sh
source scripts/lib/runner.sh

action=$1
shift
case $action in
  -h | --help) usage ;;
  merge) exec "$runner" validate --merge "$@" ;;
  verify) exec "$runner" verify "$@" ;;
  log) exec "$runner" verify-log "$@" ;;
  *) echo "validate.sh: unknown action: $action" >&2; usage >&2; exit 2 ;;
esac
