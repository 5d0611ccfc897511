#!/usr/bin/env bash
# Build finsig-runner:<version> (also tagged finsig-runner:latest) from Dockerfile.runner with
# `docker build --network none`. The context, prepared here under .images/runner/, holds the runner
# wheel (built offline with hatchling), the ci-tier wheels with a hashed requirements file that
# includes the runner wheel, the wheelhouse of finsig's locked dependencies (core, test, build tiers
# and mypy's closure, which the project environment installs) and the offline vulnerability
# database. Skips in seconds when an image built from the same inputs exists (scripts/lib/images.sh:
# the input key is recorded in a second tag beside the image).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/source.sh
source scripts/lib/source.sh
# shellcheck source=scripts/lib/images.sh
source scripts/lib/images.sh

TAG=$(image_ref runner)
VERSION=${TAG##*:}
BASE=$(image_ref base)
PY=${FINSIG_PYTHON:-.venv/bin/python}
WHEELHOUSE=${FINSIG_WHEELHOUSE:-wheelhouse}
VULNDB=${FINSIG_VULNDB:-vulndb}
OUT=.images/runner
FORCE=0
KEEP=0
# The project's locks whose wheels go into the image's wheelhouse (what finsig installs and builds with).
PROJECT_LOCKS=(requirements/core.txt requirements/test.txt requirements/build.txt)
TOOLS_LOCK=requirements/ci.txt

usage() {
  cat <<USAGE
Usage: scripts/build-runner-image.sh [--force] [--keep-context] [--help]
Builds $TAG (and finsig-runner:latest) FROM $BASE offline (docker build --network none).
  --force          build even when an image with the same inputs exists
  --keep-context   keep the build context in $OUT/context (removed by default)
Needs $BASE (make base), $WHEELHOUSE/ (make wheelhouse) and $VULNDB/ (built here with
scripts/vulndb.sh when missing). Environment: FINSIG_PYTHON (default .venv/bin/python),
FINSIG_WHEELHOUSE, FINSIG_VULNDB.
The inputs are the image set's line for runner; REVISION is their last commit (-dirty with
uncommitted changes there), CREATED and SOURCE_DATE_EPOCH that commit's time, so commits
elsewhere do not rebuild the image. The input key is recorded as a second tag,
$TAG-inputs-<12 hex> (docs/images.md).
Exit status: 0 built or up to date; 1 a missing input or a failed build; 2 bad arguments.
USAGE
}

die() { echo "build-runner-image: $*" >&2; exit 1; }

while (($#)); do
  case $1 in
    --force) FORCE=1; shift ;;
    --keep-context) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-runner-image: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

[[ -d "$WHEELHOUSE" ]] || die "missing $WHEELHOUSE/ (run 'make wheelhouse')"
if [[ ! -f "$VULNDB/finsig-vulndb.json" ]]; then
  echo "build-runner-image: no $VULNDB/, building it (scripts/vulndb.sh)"
  VULNDB_DIR="$VULNDB" scripts/vulndb.sh
fi
base_id=$(docker image inspect --format '{{.Id}}' "$BASE" 2>/dev/null) ||
  die "base image $BASE does not exist (run 'make base')"

# The inputs' last commit, not an inherited SOURCE_DATE_EPOCH: commits elsewhere change nothing.
SOURCE_DATE_EPOCH=$(image_epoch runner)
export SOURCE_DATE_EPOCH
revision=$(image_revision runner)
created=$(rfc3339 "$SOURCE_DATE_EPOCH")
# The database is built, not committed: its files join the key by content.
input_key=$(image_key runner "$VULNDB" -- "base=$base_id")

if ((FORCE == 0)) && image_is_current "$TAG" "$input_key"; then
  docker tag "$TAG" finsig-runner:latest
  echo "build-runner-image: $TAG is up to date (inputs ${input_key:0:12})"
  exit 0
fi

mkdir -p "$OUT"
ctx="$OUT/context"
rm -rf "$ctx"
mkdir -p "$ctx/wheels" "$ctx/wheelhouse"
if ((KEEP == 0)); then trap 'rm -rf "$ctx"' EXIT; fi
cp Dockerfile.runner "$ctx/Dockerfile"
cp -p images/runner/entrypoint.sh "$ctx/entrypoint.sh"
cp -rL "$VULNDB" "$ctx/vulndb"  # -L: in a worktree vulndb links to the main checkout's

# The docker CLI (the project's tests and scripts call it; the stages use the SDK): only
# /usr/bin/docker out of Debian's docker.io package, from apt's cache or downloaded by apt.
# (Both folders must exist: under pipefail a find over a missing one ends the script silently.)
mkdir -p "$OUT/deb"
deb=$(find /var/cache/apt/archives "$OUT/deb" -maxdepth 1 -name 'docker.io_*.deb' 2>/dev/null | sort | tail -n1 || true)
if [[ -z "$deb" ]]; then
  (cd "$OUT/deb" && apt-get download docker.io >/dev/null 2>&1) || die "cannot get Debian's docker.io package"
  deb=$(find "$OUT/deb" -maxdepth 1 -name 'docker.io_*.deb' | sort | tail -n1)
fi
mkdir -p "$ctx/bin"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$ctx/bin" --strip-components=3 ./usr/bin/docker
docker_cli=$(basename "$deb" .deb)

started=$(date +%s)
# The runner wheel: hatchling from the wheelhouse, no index (reproducible under SOURCE_DATE_EPOCH).
PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELHOUSE" \
  "$PY" -m build --wheel --no-isolation --outdir "$ctx/wheels" runner >"$OUT/wheel-build.log" 2>&1 ||
  { cat "$OUT/wheel-build.log" >&2; die "building the runner wheel failed"; }
shopt -s nullglob
runner_wheels=("$ctx"/wheels/finsig_runner-*.whl)
shopt -u nullglob
((${#runner_wheels[@]} == 1)) || die "expected one runner wheel, found ${#runner_wheels[@]}"
runner_wheel=${runner_wheels[0]}

# copy_pinned LOCK DIR: every wheel of the wheelhouse whose sha256 LOCK lists; fails when short.
copy_pinned() {
  local lock=$1 dir=$2 copied=0 pinned wheel hash
  for wheel in "$WHEELHOUSE"/*.whl; do
    hash=$(sha256sum "$wheel" | cut -d' ' -f1)
    if grep -q "sha256:$hash" "$lock"; then
      cp -n "$wheel" "$dir/"
      copied=$((copied + 1))
    fi
  done
  pinned=$(grep -c '^[A-Za-z0-9]' "$lock")
  ((copied >= pinned)) || die "$WHEELHOUSE holds $copied of the $pinned wheels $lock pins (run 'make wheelhouse')"
}

# The tools: the ci tier, and pip (from the build tier) to replace the venv's seeded pip.
copy_pinned "$TOOLS_LOCK" "$ctx/wheels"
copy_pinned requirements/build.txt "$ctx/wheels"
awk '/^pip==/ {p = 1; print; next} p && /^ +--hash/ {print; next} {p = 0}' requirements/build.txt \
  >"$ctx/wheels/pip.txt"
grep -q -- '--hash=sha256:' "$ctx/wheels/pip.txt" || die "no hashed pip line in requirements/build.txt"
cp -n "$WHEELHOUSE"/pip-*.whl "$ctx/wheels/"
{
  cat "$TOOLS_LOCK"
  # The build tier's packages the ci tier lacks (hatchling & co., not pip): finsig's own
  # build-app-image.sh, which the project's tests call, builds the wheel with --no-isolation.
  awk -v skip="$(grep -o '^[A-Za-z0-9_.-]*==' "$TOOLS_LOCK" | tr '[:upper:]' '[:lower:]' | tr '\n' ' ') pip== " '
    /^[A-Za-z0-9]/ {name = tolower(substr($0, 1, index($0, "==") + 1)); p = index(" " skip, " " name " ") == 0}
    /^[A-Za-z0-9]/ || /^ +--hash/ {if (p) print}' requirements/build.txt
  echo "finsig-runner==$VERSION \\"
  echo "    --hash=sha256:$(sha256sum "$runner_wheel" | cut -d' ' -f1)"
} >"$ctx/wheels/requirements.txt"

# The project's wheelhouse: its locks, plus mypy and what it needs (the project environment
# installs mypy at the runner's version so that the project's plugins load in its interpreter)
for lock in "${PROJECT_LOCKS[@]}"; do
  copy_pinned "$lock" "$ctx/wheelhouse"
done
# editables: what hatchling's editable install of the project needs (the dev tier pins it).
extra_pins=("$(grep -o '^mypy==[^ ]*' "$TOOLS_LOCK")" "$(grep -o '^editables==[^ ]*' requirements/dev.txt)")
"$PY" -m pip install --quiet --dry-run --ignore-installed --no-index --find-links "$WHEELHOUSE" \
  --report "$OUT/extra-wheels.json" "${extra_pins[@]}" >/dev/null
"$PY" - "$OUT/extra-wheels.json" "$WHEELHOUSE" "$ctx/wheelhouse" <<'PYTHON'
import json, shutil, sys
from pathlib import Path
from urllib.parse import unquote, urlparse

report, wheelhouse, target = json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]), Path(sys.argv[3])
for item in report["install"]:
    name = Path(unquote(urlparse(item["download_info"]["url"]).path)).name
    if not (target / name).exists():
        shutil.copy2(wheelhouse / name, target / name)
PYTHON
rm -f "$OUT/extra-wheels.json" "$OUT/wheel-build.log"
chmod -R a+rX "$ctx"

old_id=$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)
echo "build-runner-image: building $TAG (inputs ${input_key:0:12}; context $(du -sm "$ctx" | cut -f1) MB)"
docker build --network none --force-rm --quiet \
  --build-arg "BASE_IMAGE=$BASE" \
  --build-arg "VERSION=$VERSION" \
  --build-arg "REVISION=$revision" \
  --build-arg "CREATED=$created" \
  --label "org.finsig.docker-cli=$docker_cli" \
  --tag "$TAG" --tag finsig-runner:latest "$ctx" >/dev/null
new_id=$(docker image inspect --format '{{.Id}}' "$TAG")
image_record "$TAG" "$input_key" "$old_id"
# The legacy builder keeps the builder stage as an untagged image; it only holds the venv.
docker image ls --quiet --filter dangling=true --filter label=org.finsig.stage=runner-builder |
  xargs --no-run-if-empty docker image rm >/dev/null 2>&1 || true
size=$(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%d MB", $1 / 1e6}')
echo "build-runner-image: built $TAG ${new_id:7:12} ($size) in $(($(date +%s) - started))s (inputs ${input_key:0:12})"
