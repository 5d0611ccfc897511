#!/usr/bin/env bash
# Build finsig/app:<version> from Dockerfile.app with `docker build --network none`: the context
# holds the finsig wheel, the wheels requirements/core.txt pins, and a requirements file with a
# hash for every one of them. Skips in seconds when an image built from the same inputs exists
# (scripts/lib/images.sh: the input key is recorded in a second tag beside the image).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/source.sh
source scripts/lib/source.sh
# shellcheck source=scripts/lib/images.sh
source scripts/lib/images.sh

TAG=$(image_ref app)
BASE=$(image_ref base)
PY=${FINSIG_PYTHON:-.venv/bin/python}
WHEELHOUSE=${FINSIG_WHEELHOUSE:-wheelhouse}
LOCK=requirements/core.txt
WHEEL=""
CONTEXT=""
PREPARE_ONLY=0
FORCE=0
PRINT=""
# What the image is made of (the image set's line for app): the key, REVISION and CREATED.
listed=$(image_inputs app)
mapfile -t INPUTS <<<"$listed"

usage() {
  cat <<USAGE
Usage: scripts/build-app-image.sh [--wheel FILE] [--tag TAG] [--base TAG] [--context DIR]
                                  [--prepare-only] [--force] [--print-build-args]
                                  [--print-inputs] [--help]
Builds $TAG FROM $BASE offline, from a context with the finsig wheel and the wheels of $LOCK.
  --wheel FILE     install this finsig wheel (e.g. the pipeline's build output) instead of
                   building one from src/ with '$PY -m build --wheel --no-isolation'
  --tag TAG        tag for the image (default $TAG)
  --base TAG       base image (default $BASE); it must exist locally, nothing is pulled
  --context DIR    prepare the build context in DIR (created; empty, or an earlier context
                   of this script, which is replaced) and keep it
  --prepare-only   only prepare the context (needs --context); build it yourself with
                   docker build --network none --build-arg BASE_IMAGE=... DIR
  --force          build even when an image with the same inputs exists
  --print-build-args  print the build args VERSION, REVISION, CREATED (KEY=VALUE lines; VERSION
                   is the --wheel's, else the project's) and build nothing
  --print-inputs   print the image's inputs, one path a line (the image stage reads them)
The build args come from python -m finsig_runner.stages.image.build_args, the function the image
stage uses: REVISION is the last commit that changed the inputs (-dirty with uncommitted changes
there), CREATED that commit's time, also exported as SOURCE_DATE_EPOCH for the wheel build.
The input key is recorded as a second tag, TAG-inputs-<12 hex> (docs/images.md).
Environment: FINSIG_PYTHON (default .venv/bin/python, with the runner installed),
FINSIG_WHEELHOUSE (default wheelhouse).
Exit status: 0 built, up to date, context ready or printed; 1 a missing input or a failed build
(the message names it); 2 bad arguments.
USAGE
}

die() { echo "build-app-image: $*" >&2; exit 1; }

while (($#)); do
  case $1 in
    --wheel) WHEEL=${2:?--wheel needs a file}; shift 2 ;;
    --tag) TAG=${2:?--tag needs a value}; shift 2 ;;
    --base) BASE=${2:?--base needs a value}; shift 2 ;;
    --context) CONTEXT=${2:?--context needs a directory}; shift 2 ;;
    --prepare-only) PREPARE_ONLY=1; shift ;;
    --force) FORCE=1; shift ;;
    --print-build-args) PRINT=build-args; shift ;;
    --print-inputs) PRINT=inputs; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-app-image: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

((PREPARE_ONLY == 0 || ${#CONTEXT} > 0)) || die "--prepare-only needs --context DIR"
[[ -z "$WHEEL" || -f "$WHEEL" ]] || die "no such wheel: $WHEEL"

# build_args [WHEEL]: VERSION=, REVISION=, CREATED= lines from the one Python function.
build_args() {
  local wheel=()
  if [[ -n ${1:-} ]]; then wheel=(--wheel "$1"); fi
  [[ -x $PY ]] || die "$PY not found (run 'make deps', or set FINSIG_PYTHON)"
  "$PY" -m finsig_runner.stages.image.build_args "${wheel[@]}" -- "${INPUTS[@]}" ||
    die "computing the build args failed"
}
case $PRINT in
  inputs) printf '%s\n' "${INPUTS[@]}"; exit 0 ;;
  build-args) build_args "$WHEEL"; exit 0 ;;
esac
[[ -f "$LOCK" ]] || die "missing $LOCK"
[[ -d "$WHEELHOUSE" ]] || die "missing $WHEELHOUSE/ (run 'make wheelhouse')"

if ((PREPARE_ONLY == 0)); then
  base_id=$(docker image inspect --format '{{.Id}}' "$BASE" 2>/dev/null) ||
    die "base image $BASE does not exist (run 'make base')"
else
  base_id="not-built"
fi

# The inputs' last commit, not an inherited SOURCE_DATE_EPOCH: commits elsewhere change nothing.
SOURCE_DATE_EPOCH=$(image_epoch app)
export SOURCE_DATE_EPOCH

# A given wheel replaces src/ as what is installed: its hash joins the key.
key_lines=("base=$base_id")
if [[ -n "$WHEEL" ]]; then key_lines+=("wheel=$(sha256sum <"$WHEEL" | cut -d' ' -f1)"); fi
input_key=$(image_key app -- "${key_lines[@]}")

if ((PREPARE_ONLY == 0 && FORCE == 0)) && image_is_current "$TAG" "$input_key"; then
  echo "build-app-image: $TAG is up to date (inputs ${input_key:0:12})"
  exit 0
fi

if [[ -n "$CONTEXT" ]]; then
  mkdir -p "$CONTEXT"
  # A context this script prepared before (exactly Dockerfile and wheels/) is replaced, so
  # `make app-context` can run again; anything else in the directory is never deleted.
  if [[ "$(find "$CONTEXT" -mindepth 1 -maxdepth 1 -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')" == "Dockerfile wheels " ]]; then
    rm -rf "${CONTEXT:?}/Dockerfile" "${CONTEXT:?}/wheels"
  fi
  [[ -z "$(ls -A "$CONTEXT")" ]] || die "context directory $CONTEXT is not empty (and not an earlier app context)"
  ctx=$CONTEXT
else
  mkdir -p build
  ctx=$(mktemp -d build/app-image-context.XXXXXX)
  trap 'rm -rf "$ctx"' EXIT
fi
mkdir -p "$ctx/wheels"
cp Dockerfile.app "$ctx/Dockerfile"

if [[ -n "$WHEEL" ]]; then
  cp "$WHEEL" "$ctx/wheels/"
else
  PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELHOUSE" \
    "$PY" -m build --wheel --no-isolation --outdir "$ctx/wheels" . >"$ctx/wheel-build.log" 2>&1 ||
    { cat "$ctx/wheel-build.log" >&2; die "building the finsig wheel failed"; }
  rm -f "$ctx/wheel-build.log"
fi
shopt -s nullglob
finsig_wheels=("$ctx"/wheels/finsig-*.whl)
shopt -u nullglob
((${#finsig_wheels[@]} == 1)) || die "expected one finsig wheel, found ${#finsig_wheels[@]}"
finsig_wheel=${finsig_wheels[0]}
wheel_version=$(basename "$finsig_wheel" | cut -d- -f2)

# The wheels the lock pins: exactly those whose sha256 the lock lists.
copied=0
for wheel in "$WHEELHOUSE"/*.whl; do
  hash=$(sha256sum "$wheel" | cut -d' ' -f1)
  if grep -q "sha256:$hash" "$LOCK"; then
    cp "$wheel" "$ctx/wheels/"
    copied=$((copied + 1))
  fi
done
pinned=$(grep -c '^[A-Za-z0-9]' "$LOCK")
((copied >= pinned)) || die "$WHEELHOUSE holds $copied of the $pinned wheels $LOCK pins (run 'make wheelhouse')"

{
  cat "$LOCK"
  echo "finsig==$wheel_version \\"
  echo "    --hash=sha256:$(sha256sum "$finsig_wheel" | cut -d' ' -f1)"
} >"$ctx/wheels/requirements.txt"
chmod -R a+rX "$ctx"

if ((PREPARE_ONLY)); then
  echo "build-app-image: context ready in $ctx (inputs ${input_key:0:12})"
  exit 0
fi

mapfile -t args < <(build_args "$finsig_wheel")
((${#args[@]} == 3)) || die "expected VERSION, REVISION and CREATED, got: ${args[*]}"
old_id=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)
started=$(date +%s)
build_id="$(date +%s)-$$-$RANDOM"
build_log=$(mktemp)
docker build --network none --force-rm \
  --build-arg "BASE_IMAGE=$BASE" \
  --build-arg "BUILD_ID=$build_id" \
  "${args[@]/#/--build-arg=}" \
  --tag "$TAG" "$ctx" >"$build_log" 2>&1 ||
  { cat "$build_log" >&2; rm -f "$build_log"; die "docker build failed"; }
rm -f "$build_log"
new_id=$(docker image inspect --format '{{.Id}}' "$TAG")
image_record "$TAG" "$input_key" "$old_id"
# The legacy builder keeps the builder stage as an untagged image; it only holds the wheels.
docker image ls --quiet --filter "label=org.finsig.app-builder=$build_id" |
  xargs --no-run-if-empty docker image rm >/dev/null 2>&1 || true
echo "build-app-image: built $TAG ${new_id:7:12} in $(($(date +%s) - started))s (inputs ${input_key:0:12})"
