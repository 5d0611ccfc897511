#!/usr/bin/env bash
# Build every image: the base (scripts/build-base.sh), the service images in images/<name>/,
# then the app image (scripts/build-app-image.sh) and the runner image (scripts/build-runner-image.sh),
# when those scripts exist. An image whose inputs are
# unchanged is skipped: its label org.finsig.inputs holds a hash of its folder's files, the base
# image ID, the version and the folder's last commit, compared with `docker image inspect` before building.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVICES=(postgres prometheus postgres-exporter node-exporter alertmanager)
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -n1)
BASE="finsig/base:$VERSION"
FORCE=0

usage() {
  cat <<USAGE
Usage: scripts/build-images.sh [--force] [--help] [NAME...]
Builds $BASE, then finsig/<NAME>:$VERSION for each service (default: ${SERVICES[*]}),
then the app image via scripts/build-app-image.sh and the runner image via
scripts/build-runner-image.sh, when those scripts exist (only when no NAME is given).
  --force   rebuild the service images even when their inputs are unchanged
Each image's OCI labels: title, version, revision (last commit of its folder), created (that
commit's time, as SOURCE_DATE_EPOCH). Builds reach Debian's archive with apt (host network).
Exit status: 0 every image built or up to date; 1 a build failed (its log is shown); 2 bad arguments.
USAGE
}

names=()
while (($#)); do
  case $1 in
    --force) FORCE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "build-images: unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) [[ -d "images/$1" && -f "images/$1/Dockerfile" ]] || { echo "build-images: no images/$1/Dockerfile" >&2; exit 2; }
       names+=("$1"); shift ;;
  esac
done
all=0
if ((${#names[@]} == 0)); then names=("${SERVICES[@]}"); all=1; fi

label_of() {  # label_of IMAGE KEY -> the label's value, empty when the image or label is missing
  docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

revision_of() {  # revision_of NAME -> "<commit> <commit time>" of the last commit of images/NAME (else HEAD)
  local last
  last=$(git log -1 --format='%H %ct' -- "images/$1")
  echo "${last:-$(git log -1 --format='%H %ct')}"
}

inputs_of() {  # inputs_of NAME BASE_ID REVISION -> hash of the folder's files (names, modes, contents)
  local dir="images/$1"
  {
    echo "version=$VERSION base=$2 revision=$3"
    (cd "$dir" && find . -type f -printf '%P %m\n' | LC_ALL=C sort)
    (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}

build_service() {
  local name=$1 base_id=$2 tag="finsig/$1:$VERSION" key revision epoch created start
  read -r revision epoch < <(revision_of "$name")
  key=$(inputs_of "$name" "$base_id" "$revision")
  if [[ $FORCE == 0 && "$(label_of "$tag" org.finsig.inputs)" == "$key" ]]; then
    echo "images: $tag is up to date (inputs ${key:0:12})"
    return 0
  fi
  created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
  start=$SECONDS
  echo "images: building $tag (inputs ${key:0:12})"
  local previous
  previous=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  # --network host: apt inside the build reaches the machine's Debian mirror like the host does.
  local log
  log=$(mktemp)
  if ! docker build --network host \
      --build-arg "BASE_IMAGE=$BASE" --build-arg "VERSION=$VERSION" \
      --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
      --label "org.finsig.inputs=$key" --tag "$tag" "images/$name" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "build-images: building $tag failed" >&2
    return 1
  fi
  rm -f "$log"
  if [[ -n "$previous" && "$previous" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]]; then
    docker rmi "$previous" >/dev/null 2>&1 || true  # the replaced, now untagged image
  fi
  echo "images: $tag built in $((SECONDS - start))s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%d MB", $1 / 1e6}'))"
}

scripts/build-base.sh
base_id=$(docker image inspect -f '{{.Id}}' "$BASE")
for name in "${names[@]}"; do
  build_service "$name" "$base_id"
done

if [[ $all == 1 && -f scripts/build-app-image.sh ]]; then
  echo "images: app image via scripts/build-app-image.sh"
  bash scripts/build-app-image.sh
fi

if [[ $all == 1 && -f scripts/build-runner-image.sh ]]; then
  echo "images: runner image via scripts/build-runner-image.sh"
  bash scripts/build-runner-image.sh
fi
