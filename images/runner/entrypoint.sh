#!/bin/sh
# Entrypoint of finsig-runner:<version>. Runs as root only long enough to read who owns
# /workspace and which group owns the mounted Docker socket, then drops to that uid/gid (the
# socket's gid as a supplementary group) with setpriv and execs finsig-runner as PID 1, so that
# SIGTERM reaches the runner (which ends the run as interrupted and removes what it started).
#
#   (no arguments)        finsig-runner run --workspace /workspace
#   -x ... / --stages ..  finsig-runner run --workspace /workspace <arguments>
#   SUBCOMMAND ...        finsig-runner SUBCOMMAND ...   (e.g. list, verify-log, --version)
set -eu

WORKSPACE=${FINSIG_RUNNER_WORKSPACE_DIR:-/workspace}
SOCKET=/var/run/docker.sock

if [ "$#" -eq 0 ]; then
  set -- run --workspace "$WORKSPACE"
else
  case $1 in
    --version | --help | -h) ;;
    -*) set -- run --workspace "$WORKSPACE" "$@" ;;
  esac
fi

if [ ! -d "$WORKSPACE" ]; then
  echo "finsig-runner-entrypoint: no $WORKSPACE: mount the repository, e.g. -v \"\$PWD\":$WORKSPACE" >&2
  exit 2
fi

# git refuses a repository owned by someone else unless it is marked safe; the run may still be
# root (a root-owned workspace), and every git the stages start inherits this.
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0="$WORKSPACE"
# Tells the runner it is this container's entrypoint: it moves the container onto the run's
# internal network (finsig_runner.containers.run_network) and removes the variable for its children.
export FINSIG_RUNNER_CONTAINER_ENTRYPOINT=1

if [ "$(id -u)" != 0 ]; then
  # Started with --user: nothing to drop.
  export HOME="${HOME:-/tmp}"
  exec finsig-runner "$@"
fi

uid=$(stat -c %u "$WORKSPACE")
gid=$(stat -c %g "$WORKSPACE")
groups=""
if [ -S "$SOCKET" ]; then
  groups=$(stat -c %g "$SOCKET")
else
  echo "finsig-runner-entrypoint: no Docker socket at $SOCKET: stages that need Docker will say so" >&2
fi

# HOME: somewhere the dropped user can write (pip, git and tools keep caches there).
home=/tmp/finsig-runner-home
mkdir -p "$home"
chown "$uid:$gid" "$home"
chmod 0700 "$home"
export HOME="$home"

if [ "$uid" = 0 ]; then
  echo "finsig-runner-entrypoint: $WORKSPACE is owned by root: the runner stays root" >&2
  exec finsig-runner "$@"
fi
# The uid has no passwd entry here: tools that ask for a user name (getpass) read these.
export USER=finsig LOGNAME=finsig

if [ -n "$groups" ]; then
  set -- --groups "$groups" -- finsig-runner "$@"
else
  set -- --clear-groups -- finsig-runner "$@"
fi
# --no-new-privs: nothing started below can gain privileges (setuid binaries);
# --inh-caps/--bounding-set: no capability survives, even for a uid that maps to root elsewhere.
exec setpriv --reuid "$uid" --regid "$gid" --no-new-privs --inh-caps=-all --bounding-set=-all "$@"
