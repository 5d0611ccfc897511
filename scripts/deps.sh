#!/usr/bin/env bash
# Host tools and the project virtual environment (.venv). Idempotent.
# On Debian as root it installs mmdebstrap, docker-compose, shellcheck and python3-venv;
# anywhere else it says what to install. Python packages come only from the wheelhouse.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "Usage: scripts/deps.sh   - host tools (Debian, root) and .venv from ./wheelhouse"
  echo "Exit status: 0 ready; 1 something is missing or failed (the message says what); 2 bad arguments."
}
case "${1:-}" in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) echo "deps: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

APT_PACKAGES=(mmdebstrap docker-compose shellcheck python3-venv git make skopeo)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ -f /etc/debian_version && $(id -u) -eq 0 ]]; then
    echo "deps: installing ${missing[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "deps: missing host tools: ${missing[*]}" >&2
    echo "deps: on Debian run as root: apt-get install ${missing[*]} (elsewhere install their equivalents), then retry." >&2
    exit 1
  fi
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "deps: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi

# The venv's own pip downloads: Debian's python3 may have no pip module at all.
PYTHON=.venv/bin/python scripts/wheelhouse.sh

stamp=.venv/.finsig-deps
want=$(cat requirements/*.txt pyproject.toml runner/pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "deps: .venv up to date"
  exit 0
fi
echo "deps: installing the locked tiers into .venv from the wheelhouse"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-index --find-links wheelhouse \
  --require-hashes -r requirements/build.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-index --find-links wheelhouse \
  --require-hashes -r requirements/core.txt -r requirements/test.txt -r requirements/ci.txt -r requirements/dev.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-index --find-links wheelhouse \
  --no-deps --no-build-isolation -e . -e runner
echo "$want" > "$stamp"
echo "deps: .venv ready"
