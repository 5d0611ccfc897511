#!/usr/bin/env bash
# Build every image of the set (runner/src/finsig_runner/bundle/image-set.txt), in its order: the
# base (scripts/build-base.sh), the service images in images/<name>/ (here), the app image
# (scripts/build-app-image.sh) and the runner image (scripts/build-runner-image.sh). An image whose
# inputs are unchanged is skipped (scripts/lib/images.sh: its input key covers its inputs' files,
# the base image ID, the version, epoch and revision, and is recorded in a second tag beside it).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/source.sh
source scripts/lib/source.sh
# shellcheck source=scripts/lib/images.sh
source scripts/lib/images.sh

SELF=scripts/build-images.sh
services=$(image_names_built_by "$SELF")
mapfile -t SERVICES <<<"$services"
BASE=$(image_ref base)
VERSION=${BASE##*:}
FORCE=0

usage() {
  cat <<USAGE
Usage: scripts/build-images.sh [--force] [--help] [NAME...]
Builds $BASE, then finsig/<NAME>:$VERSION for each service (default: ${SERVICES[*]}),
then (only when no NAME is given) every other image of the set with its own script: the app
image via scripts/build-app-image.sh and the runner image via scripts/build-runner-image.sh.
  --force   rebuild the service images even when their inputs are unchanged
Each service image's OCI labels: title, version, revision (last commit of its inputs: this
script and images/<NAME>; -dirty with uncommitted changes there), created (that commit's time,
as SOURCE_DATE_EPOCH). Its input key is recorded as a second tag, finsig/<NAME>:$VERSION-inputs-<12
hex> (docs/images.md). Builds reach Debian's archive with apt (host network).
Exit status: 0 every image built or up to date; 1 a build failed (its log is shown); 2 bad arguments.
USAGE
}

names=()
while (($#)); do
  case $1 in
    --force) FORCE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "build-images: unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) [[ " ${SERVICES[*]} " == *" $1 "* ]] ||
         { echo "build-images: $1 is not a service image (${SERVICES[*]})" >&2; exit 2; }
       names+=("$1"); shift ;;
  esac
done
all=0
if ((${#names[@]} == 0)); then names=("${SERVICES[@]}"); all=1; fi

build_service() {
  local name=$1 base_id=$2 tag key revision created start
  tag=$(image_ref "$name")
  key=$(image_key "$name" -- "base=$base_id")
  if [[ $FORCE == 0 ]] && image_is_current "$tag" "$key"; then
    echo "images: $tag is up to date (inputs ${key:0:12})"
    return 0
  fi
  revision=$(image_revision "$name")
  created=$(rfc3339 "$(image_epoch "$name")")
  start=$SECONDS
  echo "images: building $tag (inputs ${key:0:12})"
  local previous
  previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  # --network host: apt inside the build reaches the machine's Debian mirror like the host does.
  local log
  log=$(mktemp)
  if ! docker build --network host --force-rm \
      --build-arg "BASE_IMAGE=$BASE" --build-arg "VERSION=${tag##*:}" \
      --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
      --tag "$tag" "images/$name" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "build-images: building $tag failed" >&2
    return 1
  fi
  rm -f "$log"
  image_record "$tag" "$key" "$previous"
  echo "images: $tag built in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%d MB", $1 / 1e6}'))"
}

scripts/build-base.sh
base_id=$(docker image inspect -f '{{.Id}}' "$BASE")
for name in "${names[@]}"; do
  build_service "$name" "$base_id"
done

if [[ $all == 1 ]]; then
  for name in $(image_names); do
    script=$(image_script "$name")
    if [[ $script == "$SELF" || $script == scripts/build-base.sh ]]; then continue; fi  # done above
    echo "images: $name image via $script"
    bash "$script"
  done
fi
