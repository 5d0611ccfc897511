#!/usr/bin/env bash
# The headless browser the report tests open reports/index.html in: Debian's chromium and
# chromium-driver. Idempotent: installs only what is missing. Not part of `make deps`, so that
# `make pipeline` stays lean; `make test` depends on it.
set -euo pipefail

usage() {
  echo "Usage: scripts/browser-deps.sh   - Debian's chromium and chromium-driver (root), when missing"
  echo "Exit status: 0 ready; 1 something is missing or failed (the message says what); 2 bad arguments."
}
case "${1:-}" in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) echo "browser-deps: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

APT_PACKAGES=(chromium chromium-driver)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ -f /etc/debian_version && $(id -u) -eq 0 ]]; then
    echo "browser-deps: installing ${missing[*]} from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "browser-deps: missing: ${missing[*]}" >&2
    echo "browser-deps: on Debian run as root: apt-get install ${missing[*]}, then retry." >&2
    exit 1
  fi
fi
for tool in /usr/bin/chromium /usr/bin/chromedriver; do
  if [[ ! -x $tool ]]; then
    echo "browser-deps: $tool is missing although its package is installed" >&2
    exit 1
  fi
done
echo "browser-deps: $(/usr/bin/chromium --version 2>/dev/null | head -n1), $(/usr/bin/chromedriver --version | head -n1)"
