#!/usr/bin/env bash
# Ensure a Docker engine answers. Idempotent: an engine that answers is never touched.
# On Debian as root it installs docker.io + iptables and starts dockerd in the background.
set -euo pipefail

LOG=${FINSIG_DOCKERD_LOG:-/var/log/finsig-dockerd.log}
WAIT=${FINSIG_ENGINE_WAIT:-60}

usage() {
  cat <<USAGE
Usage: scripts/engine.sh [--help]
Ensures 'docker info' answers: installs Debian's docker.io and iptables when missing,
starts dockerd in the background (log: $LOG) and waits up to ${WAIT}s for it.
Exit status: 0 docker answers; 1 it does not (or cannot be installed here); 2 bad arguments.
USAGE
}
case "${1:-}" in
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) echo "engine: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

if docker info >/dev/null 2>&1; then
  echo "engine: docker answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if [[ ! -f /etc/debian_version || $(id -u) -ne 0 ]]; then
  echo "engine: no Docker engine answers, and this is not Debian as root." >&2
  echo "engine: install and start Docker yourself (e.g. 'apt-get install docker.io iptables', 'dockerd &'), then retry." >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v iptables >/dev/null 2>&1; then
  echo "engine: installing docker.io and iptables from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io iptables >/dev/null
fi

dockerd_running() {  # pgrep is in procps, which a minimal Debian may lack: then dockerd's pidfile
  if command -v pgrep >/dev/null 2>&1; then
    pgrep -x dockerd >/dev/null 2>&1
  else
    [[ -s /var/run/docker.pid ]] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null
  fi
}

if ! dockerd_running; then
  echo "engine: starting dockerd (log: $LOG)"
  mkdir -p "$(dirname "$LOG")"
  nohup dockerd >>"$LOG" 2>&1 </dev/null &
  disown || true
fi

for ((i = 0; i < WAIT; i++)); do
  if docker info >/dev/null 2>&1; then
    echo "engine: docker answers after ${i}s ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  sleep 1
done
echo "engine: dockerd did not answer within ${WAIT}s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2 || true
exit 1
