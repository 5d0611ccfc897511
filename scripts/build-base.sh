#!/usr/bin/env bash
# Build finsig/base:<version> reproducibly: mmdebstrap (bookworm, minbase) -> rootfs tar ->
# docker-archive written by images/base/assemble.py (config `created` = SOURCE_DATE_EPOCH) ->
# docker load. Same inputs, same image ID. Skips in seconds when the image for the same inputs
# exists (scripts/lib/images.sh: the input key is recorded in a second tag beside the image).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/source.sh
source scripts/lib/source.sh
# shellcheck source=scripts/lib/images.sh
source scripts/lib/images.sh

TAG=$(image_ref base)
VERSION=${TAG##*:}
OUT=.images/base
KEEP_TAR=0
FORCE=0
BASE_DIR=images/base

usage() {
  cat <<USAGE
Usage: scripts/build-base.sh [--tag TAG] [--out DIR] [--keep-tar] [--force] [--help]
Builds $TAG from Debian bookworm with mmdebstrap and loads it as a docker-archive.
  --tag TAG    tag to give the image (default $TAG)
  --out DIR    work directory: temp files, rootfs.tar, image.tar, build-info.json (default $OUT)
  --keep-tar   keep rootfs.tar and image.tar in DIR (removed by default)
  --force      build even when an image with the same inputs exists
SOURCE_DATE_EPOCH is the time of the last commit that changed the base's inputs (the image
set's line for base: this script, images/base), so commits elsewhere do not rebuild it.
The input key (those files, the epoch, the mmdebstrap version, the architecture, the apt
sources) is recorded as a second tag, $TAG-inputs-<12 hex> (docs/images.md).
The Debian mirror is whatever this machine's apt uses (/etc/apt/sources.list*).
Exit status: 0 built or up to date; 1 a failed build or a missing tool; 2 bad arguments.
USAGE
}

while (($#)); do
  case $1 in
    --tag) TAG=${2:?--tag needs a value}; shift 2 ;;
    --out) OUT=${2:?--out needs a value}; shift 2 ;;
    --keep-tar) KEEP_TAR=1; shift ;;
    --force) FORCE=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-base: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

SOURCE_DATE_EPOCH=$(image_epoch base)
export SOURCE_DATE_EPOCH

# The host's apt sources, passed to mmdebstrap as files (their contents become the chroot's sources).
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  if [[ -s "$f" ]]; then sources+=("$f"); fi
done
if ((${#sources[@]} == 0)); then
  echo "build-base: no apt sources found in /etc/apt/sources.list*" >&2
  exit 1
fi

mapfile -t packages < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$BASE_DIR/packages")
include=$(IFS=,; echo "${packages[*]}")

# Everything that decides the image's bytes goes into the input key.
input_key=$(image_key base "${sources[@]}" -- "arch=$(dpkg --print-architecture)" \
  "$(mmdebstrap --version)")

if [[ $FORCE == 0 ]] && image_is_current "$TAG" "$input_key"; then
  echo "base: $TAG is up to date (inputs ${input_key:0:12})"
  exit 0
fi

start=$SECONDS
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export TMPDIR="$OUT/tmp"
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
cleanup() {
  rm -rf "$TMPDIR"
  if [[ $KEEP_TAR == 0 ]]; then rm -f "$OUT/rootfs.tar" "$OUT/image.tar"; fi
}
trap cleanup EXIT

# mmdebstrap's own policy-rc.d is removed at its end; ours goes in before any package is
# configured and stays. Its apt cleanup runs after the last hook and would trip over our apt.conf
# (which drops caches), so the last hook cleans apt's lists and caches itself, then adds apt.conf.
echo "base: building $TAG (inputs ${input_key:0:12}, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
# shellcheck disable=SC2016  # "$1" is expanded by mmdebstrap's hook shell: the chroot path.
mmdebstrap --variant=minbase --include="$include" \
  --dpkgopt="$BASE_DIR/dpkg.cfg" \
  --skip=chroot/policy-rc.d,cleanup/apt,output/dev \
  --extract-hook="upload $BASE_DIR/policy-rc.d /usr/sbin/policy-rc.d" \
  --extract-hook='chmod 0755 "$1/usr/sbin/policy-rc.d"' \
  --customize-hook='find "$1/var/lib/apt/lists" "$1/var/cache/apt" -type f -delete' \
  --customize-hook="upload $BASE_DIR/apt.conf /etc/apt/apt.conf.d/90finsig-lean" \
  bookworm "$OUT/rootfs.tar" "${sources[@]}"

created=$(rfc3339 "$SOURCE_DATE_EPOCH")
python3 "$BASE_DIR/assemble.py" --layer "$OUT/rootfs.tar" --out "$OUT/image.tar" --tag "$TAG" \
  --epoch "$SOURCE_DATE_EPOCH" --info "$OUT/build-info.json" \
  --created-by "mmdebstrap --variant=minbase --include=$include bookworm" \
  --label "org.opencontainers.image.title=finsig-base" \
  --label "org.opencontainers.image.description=Debian bookworm minbase with $include" \
  --label "org.opencontainers.image.version=$VERSION" \
  --label "org.opencontainers.image.created=$created" >/dev/null

previous=$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)
docker load --input "$OUT/image.tar"
want=$(sed -n 's/.*"config_digest": "\(.*\)".*/\1/p' "$OUT/build-info.json")
got=$(docker image inspect -f '{{.Id}}' "$TAG")
if [[ "$got" != "$want" ]]; then
  echo "build-base: loaded image ID $got differs from the config digest $want" >&2
  exit 1
fi
# The replaced base stays (quietly) while images built on it still exist.
image_record "$TAG" "$input_key" "$previous"
echo "base: $TAG = $got ($(du -m "$OUT/rootfs.tar" | cut -f1) MB rootfs, $((SECONDS - start))s)"
