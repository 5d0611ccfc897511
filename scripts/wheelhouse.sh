#!/usr/bin/env bash
# Download every wheel the project needs, from the hash-pinned locks, into one directory.
# The only step of the project that reaches the package index.
set -euo pipefail
cd "$(dirname "$0")/.."

DEST=${WHEELHOUSE:-wheelhouse}
TIERS=(core test build ci dev)

usage() {
  echo "Usage: scripts/wheelhouse.sh   (env WHEELHOUSE=dir, default ./wheelhouse; PYTHON=a python with pip)"
  echo "Downloads the wheels pinned in requirements/{${TIERS[*]}}.txt for CPython 3.11 x86_64 (glibc)."
  echo "Exit status: 0 every pinned wheel is there; 1 no pip, or wheels missing (listed); 2 bad arguments."
}
case "${1:-}" in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) echo "wheelhouse: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

mkdir -p "$DEST"
stamp="$DEST/.locks.sha256"
want=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "wheelhouse: up to date ($(find "$DEST" -name '*.whl' | wc -l) wheels in $DEST)"
  exit 0
fi
# A Python with pip: $PYTHON, else the project venv's (scripts/deps.sh creates it first), else
# python3. Debian's python3 has no pip module unless python3-pip is installed.
if [[ -n "${PYTHON:-}" ]]; then
  candidates=("$PYTHON")
else
  candidates=(.venv/bin/python python3)
fi
PY=""
for candidate in "${candidates[@]}"; do
  if "$candidate" -m pip --version >/dev/null 2>&1; then PY=$candidate; break; fi
done
if [[ -z "$PY" ]]; then
  echo "wheelhouse: no pip in ${candidates[*]}: run 'make deps' (it creates .venv, which has pip)" >&2
  echo "wheelhouse: or install pip for python3 (Debian: apt-get install python3-pip), then retry." >&2
  exit 1
fi
for tier in "${TIERS[@]}"; do
  echo "wheelhouse: $tier"
  # The platform flags make the download independent of the host's Python patch level:
  # the images run Debian's CPython 3.11 on glibc 2.36.
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
    --only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 --abi none \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform linux_x86_64 --platform any \
    -r "requirements/$tier.txt" -d "$DEST" 2>&1 | grep -v "is ignored" || true
  # pip's exit status is lost in the pipe above: check every pinned file arrived.
done
"$PY" - "$DEST" requirements/{core,test,build,ci,dev}.txt <<'PY'
import re, sys, pathlib
dest = pathlib.Path(sys.argv[1])
have = {re.sub(r"[-_.]+", "-", p.name.split("-")[0]).lower() + "==" + p.name.split("-")[1] for p in dest.glob("*.whl")}
missing = []
for lock in sys.argv[2:]:
    for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", pathlib.Path(lock).read_text(), re.M):
        key = re.sub(r"[-_.]+", "-", m.group(1)).lower() + "==" + m.group(2)
        if key not in have:
            missing.append(f"{lock}: {m.group(1)}=={m.group(2)}")
if missing:
    sys.exit("wheelhouse: missing wheels:\n  " + "\n  ".join(missing))
PY
echo "$want" > "$stamp"
echo "wheelhouse: $(find "$DEST" -name '*.whl' | wc -l) wheels in $DEST"
