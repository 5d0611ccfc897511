#!/usr/bin/env bash
# Prepare a machine for the pipeline and, on request, run it: make deps (host tools and .venv
# from the wheelhouse), make engine (a Docker engine), make images (base, services, app, runner).
# Thin wrapper: make does the work.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  cat <<USAGE
Usage: scripts/setup_pipeline.sh [--help] [--run] [--wheelhouse]
  (no option)    make deps engine images: everything the pipeline needs, nothing run
  --wheelhouse   first make wheelhouse (the only step that reaches the package index; on a
                 connected machine only)
  --run          then make pipeline: the whole pipeline over this repository in the runner image
Idempotent: what exists is kept. On Debian as root; elsewhere make says what to install.
USAGE
}

targets=()
run=0
while (($#)); do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --wheelhouse) targets+=(wheelhouse); shift ;;
    --run) run=1; shift ;;
    *) echo "setup_pipeline.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done

targets+=(deps engine images)
make "${targets[@]}"
if ((run)); then
  exec make pipeline
fi
