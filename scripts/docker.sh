#!/usr/bin/env bash
# The appliance's images: build them (make images), export them as one signed bundle
# (finsig-runner bundle export), run the app image stage, or push them to a registry.
# Thin wrapper: make and the runner do the work; push only tags and pushes what make built.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/source.sh
source scripts/lib/source.sh
# shellcheck source=scripts/lib/images.sh
source scripts/lib/images.sh

usage() {
  cat <<USAGE
Usage: scripts/docker.sh [--help] ACTION [ARGS...]
  build              make images: engine, base, service images, app and runner images
  stage [OPTIONS]    the runner's image stage with its prerequisite build (finsig-runner run
                     --stages image): artifacts/docker-image.tar, docker-image-sha256.txt,
                     docker-hash.txt
  bundle OUT         finsig-runner bundle export OUT --key \$FINSIG_BUNDLE_KEY: every image in one
                     tar with a signed manifest (OUT.dsse) and the public key (OUT.pub).
                     FINSIG_BUNDLE_KEY is a key file path or the PEM text itself; required.
  push REGISTRY      tag every image of the set as REGISTRY/<name:tag> and push it (all must
                     exist); logs in first when FINSIG_REGISTRY_USER and FINSIG_REGISTRY_PASSWORD
                     are set
The image set (runner/src/finsig_runner/bundle/image-set.txt):
$(image_refs | paste -sd' ' | fold -s -w 96 | sed 's/^/  /')
Runner: \$FINSIG_RUNNER, else .venv/bin/finsig-runner (make deps), else finsig-runner on PATH.
Exit status: the command's; 1 an image to push is missing; 2 bad arguments or no bundle key.
USAGE
}

if (($# == 0)); then
  usage >&2
  exit 2
fi

# shellcheck source=scripts/lib/runner.sh
source scripts/lib/runner.sh

key_dir=""
trap '[[ -z $key_dir ]] || rm -rf "$key_dir"' EXIT

bundle() {
  local out=${1:?bundle: OUT missing} key=${FINSIG_BUNDLE_KEY:-}
  if [[ -z $key ]]; then
    echo "docker.sh: bundle needs FINSIG_BUNDLE_KEY (a key made by finsig-runner keygen)" >&2
    exit 2
  fi
  if [[ ! -f $key ]]; then  # the PEM text itself (a CI secret): into a private temporary file
    key_dir=$(mktemp -d)
    (umask 077 && printf '%s\n' "$key" >"$key_dir/finsig-signing.key")
    key=$key_dir/finsig-signing.key
  fi
  mkdir -p "$(dirname "$out")"
  "$runner" bundle export "$out" --key "$key"
}

push() {
  local registry=${1:?push: REGISTRY missing} image list refs missing=()
  registry=${registry%/}
  refs=$(image_refs)
  mapfile -t list <<<"$refs"
  if ! docker image inspect --format '{{.Id}}' "${list[@]}" >/dev/null 2>&1; then
    for image in "${list[@]}"; do
      docker image inspect "$image" >/dev/null 2>&1 || missing+=("$image")
    done
    echo "docker.sh: missing image(s) ${missing[*]} (run: scripts/docker.sh build)" >&2
    exit 1
  fi
  if [[ -n ${FINSIG_REGISTRY_USER:-} && -n ${FINSIG_REGISTRY_PASSWORD:-} ]]; then
    printf '%s' "$FINSIG_REGISTRY_PASSWORD" |
      docker login --username "$FINSIG_REGISTRY_USER" --password-stdin "${registry%%/*}"
  fi
  for image in "${list[@]}"; do
    docker tag "$image" "$registry/$image"
    docker push "$registry/$image"
  done
}

action=$1
shift
case $action in
  -h | --help) usage ;;
  build) exec make images ;;
  stage) exec "$runner" run --stages image "$@" ;;
  bundle) bundle "$@" ;;
  push) push "$@" ;;
  *) echo "docker.sh: unknown action: $action" >&2; usage >&2; exit 2 ;;
esac
