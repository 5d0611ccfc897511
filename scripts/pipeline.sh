#!/usr/bin/env bash
# Run the whole pipeline over this repository inside the runner image (what `make pipeline` does
# after deps, engine and images):
#   docker run --rm -v "$PWD":/workspace -v /var/run/docker.sock:/var/run/docker.sock finsig-runner:<version>
# With FINSIG_SIGNING_KEY (make pipeline KEY=path), the run is told only the key's fingerprint
# (expected_signer) and never sees the key; once its container has exited, a second container
# that runs no project code seals the evidence (`finsig-runner seal`, docs/threat-model.md).
# Ends with one line: PASSED or FAILED (PARTIAL for a partial run), the runner's exit code and
# where the validation report is.
# Exits with the runner's exit code unchanged (0 passed, 1 findings, 2 usage, 3 tool error,
# 130 interrupted; see docs/runner.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/source.sh
source scripts/lib/source.sh
# shellcheck source=scripts/lib/images.sh
source scripts/lib/images.sh

IMAGE=${FINSIG_RUNNER_IMAGE:-$(image_ref runner)}
SOCKET=${DOCKER_SOCKET:-/var/run/docker.sock}
REPORT=artifacts/artifact-validation.json

usage() {
  cat <<USAGE
Usage: scripts/pipeline.sh [--help] [RUNNER ARGS...]
Runs $IMAGE over this repository ($PWD mounted at /workspace, the Docker socket
mounted) and returns the runner's exit code. RUNNER ARGS go to the image's entrypoint: options
(e.g. --stages lint,typing, --jobs 2, --set KEY=VALUE) are added to 'finsig-runner run
--workspace /workspace'; a subcommand (e.g. list) replaces it.
Environment: FINSIG_RUNNER_IMAGE (default $IMAGE), DOCKER_SOCKET (default /var/run/docker.sock),
FINSIG_SIGNING_KEY (a private key file outside the repository: the run names its fingerprint as
expected_signer, and a separate container seals the evidence after the run's has exited).
The last line says PASSED or FAILED, the exit code and where $REPORT is (and whether sealed).
USAGE
}

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
  usage
  exit 0
fi

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "pipeline: no image $IMAGE (run 'make images')" >&2
  echo "pipeline: FAILED (exit 3): the runner did not run; no validation report"
  exit 3
fi

# A terminal gets the live view; Ctrl-C (and any SIGINT/SIGTERM the docker client receives) is
# passed on to the runner, which ends the run as interrupted and removes what it started.
tty=()
if [[ -t 0 && -t 1 ]]; then tty=(--tty --interactive); fi

KEY=${FINSIG_SIGNING_KEY:-}
if [[ -n $KEY ]]; then
  if [[ ! -r $KEY ]]; then
    echo "pipeline: FINSIG_SIGNING_KEY=$KEY is not a readable file" >&2
    echo "pipeline: FAILED (exit 2): the runner did not run; no validation report"
    exit 2
  fi
  KEY=$(readlink -f "$KEY")
  if [[ $KEY == "$PWD"/* ]]; then
    echo "pipeline: the signing key must not be inside the repository (the run could read it)" >&2
    echo "pipeline: FAILED (exit 2): the runner did not run; no validation report"
    exit 2
  fi
  # The fingerprint, from the image's own runner: the key is mounted for this one command only.
  fingerprint=$(docker run --rm --network none --volume "$KEY":/key/finsig-signing.key:ro \
    --entrypoint finsig-runner "$IMAGE" fingerprint /key/finsig-signing.key)
  set -- "$@" --set "expected_signer=$fingerprint"
fi

started=$(date +%s)
code=0
docker run --rm "${tty[@]}" \
  --volume "$PWD":/workspace \
  --volume "$SOCKET":/var/run/docker.sock \
  "$IMAGE" "$@" || code=$?

sealed=""
if [[ -n $KEY && -f $REPORT ]] && (($(stat -c %Y "$REPORT") >= started)) && ((code != 130)); then
  # The run's container has exited: no project code runs any more. This container holds the key.
  if docker run --rm --network none \
      --volume "$PWD":/workspace \
      --volume "$SOCKET":/var/run/docker.sock \
      --volume "$KEY":/key/finsig-signing.key:ro \
      "$IMAGE" seal /workspace --key /key/finsig-signing.key; then
    sealed=", sealed by $fingerprint"
  else
    echo "pipeline: sealing refused (see above): the evidence stays unsigned" >&2
    sealed=", NOT sealed"
    ((code == 0)) && code=1
  fi
fi

verdict=FAILED
((code == 0)) && verdict=PASSED
# Only a report this run wrote counts (a run refused before it started leaves an older one).
if [[ -f $REPORT ]] && (($(stat -c %Y "$REPORT") >= started)); then
  where="validation report: $PWD/$REPORT"
  # A partial run (--stages/--only) gives no verdict: never call it PASSED.
  partial=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("partial") is True)' \
    "$REPORT" 2>/dev/null || true)
  if [[ $partial == True ]]; then
    verdict="PARTIAL (no verdict: not every stage ran; stages here $verdict)"
  fi
elif [[ -f $REPORT ]]; then
  where="no validation report from this run ($REPORT is older than the run)"
else
  where="no validation report ($REPORT was not written)"
fi
echo "pipeline: $verdict (exit $code): $where$sealed"
exit "$code"
