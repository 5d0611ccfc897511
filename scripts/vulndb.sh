#!/usr/bin/env bash
# Build the offline vulnerability database (./vulndb) that safety 3.7.0 reads with --db, from the
# vendored PyPA advisory snapshot or from fresher sources given on the command line.
# Idempotent: skips the build when the sources' sha256 and the converter version are unchanged.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/source.sh
source scripts/lib/source.sh

VENDOR=third_party/advisory-db
OUT=${VULNDB_DIR:-vulndb}
PY=${PYTHON:-.venv/bin/python}
FORCE=0

usage() {
  cat <<USAGE
Usage: scripts/vulndb.sh [--force] [SOURCE...]

Builds $OUT/ (insecure.json, insecure_full.json: safety's schema 2.0.0; finsig-vulndb.json:
source, source_sha256, source_date, counts) with 'python -m finsig_runner.vulndb build'.

SOURCE   an OSV archive (.tar.gz/.zip) or directory tree (e.g. a clone of the PyPA advisory
         database), or a safety-db wheel or directory. Several: the freshest data wins.
         Default: the vendored snapshot named in $VENDOR/source.json, whose sha256 is checked
         and whose label and date go into the metadata.
--force  rebuild even when nothing changed.

Environment: VULNDB_DIR (default: vulndb), PYTHON (default: .venv/bin/python),
VULNDB_LABEL (names a single SOURCE given here, e.g. "pypa/advisory-database@<commit> (OSV)";
without it a clone is named by its HEAD commit, an archive by its file name),
SOURCE_DATE_EPOCH (the metadata's "built" time; default: the time of the last commit that
changed $VENDOR, the converter or this script, scripts/lib/source.sh).
USAGE
}

sources=()
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --force) FORCE=1 ;;
    -*) echo "vulndb: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) sources+=("$1") ;;
  esac
  shift
done

if [[ ! -x "$PY" ]]; then
  echo "vulndb: $PY not found; run 'make deps' first (or set PYTHON)" >&2
  exit 1
fi

# One field of the vendored source.json.
vendor_field() {
  "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
    "$VENDOR/source.json" "$1"
}

extra=()
if ((${#sources[@]} == 0)); then
  archive="$VENDOR/$(vendor_field archive)"
  want=$(vendor_field sha256)
  have=$(sha256sum "$archive" | cut -d' ' -f1)
  if [[ "$have" != "$want" ]]; then
    echo "vulndb: $archive has sha256 $have, $VENDOR/source.json says $want" >&2
    exit 1
  fi
  sources=("$archive")
  extra=(--label "$(vendor_field label)")
elif [[ -n "${VULNDB_LABEL:-}" ]]; then
  extra=(--label "$VULNDB_LABEL")
fi

for src in "${sources[@]}"; do
  if [[ ! -e "$src" ]]; then
    echo "vulndb: source $src: no such file or directory" >&2
    exit 1
  fi
done

# The rebuild key: every source's content hash plus the converter's version (code digest).
key() {
  local src
  for src in "${sources[@]}"; do
    if [[ -d "$src" ]]; then
      (cd "$src" && find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z |
        xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
    else
      sha256sum "$src" | cut -d' ' -f1
    fi
  done
  "$PY" -m finsig_runner.vulndb version
}
want_key=$(key)
stamp="$OUT/.build-key"
if ((FORCE == 0)) && [[ -f "$stamp" && -f "$OUT/finsig-vulndb.json" ]] &&
  [[ "$(cat "$stamp")" == "$want_key" ]]; then
  echo "vulndb: up to date ($OUT, $(tr '\n' ' ' <"$stamp" | cut -c1-12)...)"
  exit 0
fi

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(source_date_epoch "$VENDOR" \
  runner/src/finsig_runner/vulndb scripts/vulndb.sh)}

# Build beside, then swap: a failed build leaves the previous database as it was.
tmp="$OUT.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
args=()
for src in "${sources[@]}"; do
  args+=(--source "$src")
done
"$PY" -m finsig_runner.vulndb build "${args[@]}" "${extra[@]}" --out "$tmp"
printf '%s\n' "$want_key" >"$tmp/.build-key"
rm -rf "$OUT"
mv "$tmp" "$OUT"
trap - EXIT
echo "vulndb: wrote $OUT ($(cd "$OUT" && du -sh . | cut -f1))"
