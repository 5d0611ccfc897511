# Sourced by the scripts that hand work to the runner (not run on its own).
# Sets $runner: $FINSIG_RUNNER, else .venv/bin/finsig-runner (make deps), else finsig-runner on PATH.
# shellcheck shell=bash
runner=${FINSIG_RUNNER:-}
if [[ -z $runner ]]; then
  if [[ -x .venv/bin/finsig-runner ]]; then runner=.venv/bin/finsig-runner; else runner=finsig-runner; fi
fi
