# shellcheck shell=bash
# What the sources say about a build: the project's version, SOURCE_DATE_EPOCH and the revision.
# The one shell owner of these facts (sourced by the scripts; the Makefile calls it through bash);
# finsig_runner.core.source is the one Python owner, and tests/runner/core/test_source.py holds the
# two to the same answers. Paths are relative to the current directory: the repository's top.
#
#   project_version [DIR]       the static [project] version of DIR/pyproject.toml (default .)
#   source_date_epoch [PATH...] committer time of the last commit touching PATHs (HEAD's without
#                               PATHs); with no such commit (no git, no repository, no commit, or
#                               none touching PATHs): $SOURCE_DATE_EPOCH when it is an integer,
#                               else 315532800 (1980-01-01, the earliest time a zip can hold)
#   source_revision [PATH...]   that commit's hash ("unknown" without one), "-dirty" appended when
#                               PATHs (the whole tree without PATHs) have uncommitted changes
#   rfc3339 EPOCH               e.g. 2026-11-26T04:05:40Z

project_version() {
  local file=${1:-.}/pyproject.toml version
  # The first `version = "..."` (or '...') inside the [project] table, as tomllib reads it.
  version=$(awk '
    /^[[:space:]]*\[/ { table = $0; sub(/#.*/, "", table); gsub(/[[:space:]]/, "", table); next }
    table == "[project]" && /^[[:space:]]*version[[:space:]]*=/ {
      value = $0
      sub(/^[^=]*=[[:space:]]*/, "", value)
      sub(/[[:space:]]*(#.*)?$/, "", value)
      if (value ~ /^"[^"]+"$/ || value ~ /^\047[^\047]+\047$/) print substr(value, 2, length(value) - 2)
      exit
    }' "$file" 2>/dev/null) || version=""
  if [[ -z $version ]]; then
    echo "project_version: $file has no static [project] version (set version = \"...\")" >&2
    return 1
  fi
  echo "$version"
}

# git in the current directory, trusted whoever owns it (inside the runner the workspace belongs
# to another uid), quiet; fails when git does.
_source_git() {
  local top
  top=$(pwd -P)
  git -c safe.directory="$top" -C "$top" "$@" 2>/dev/null
}

source_date_epoch() {
  local seconds
  seconds=$(_source_git log -1 --format=%ct -- "$@") || seconds=""
  if [[ $seconds =~ ^[0-9]+$ ]]; then
    echo "$seconds"
  elif [[ ${SOURCE_DATE_EPOCH:-} =~ ^[0-9]+$ ]]; then
    echo "$SOURCE_DATE_EPOCH"
  else
    echo 315532800
  fi
}

source_revision() {
  local revision status
  revision=$(_source_git log -1 --format=%H -- "$@") || revision=""
  if [[ ! $revision =~ ^[0-9a-f]{40}([0-9a-f]{24})?$ ]]; then revision=unknown; fi
  status=$(_source_git status --porcelain -- "$@") || status=""
  if [[ -n $status ]]; then revision+=-dirty; fi
  echo "$revision"
}

rfc3339() {
  date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}
