# shellcheck shell=bash
# The image set and the one way every build script decides to skip, records what it built and
# removes the image it replaced. Sourced (after scripts/lib/source.sh) from the repository's top.
#
# The set is runner/src/finsig_runner/bundle/image-set.txt (one line per image: NAME REPOSITORY
# PROJECT BUNDLE SCRIPT PATH...; SCRIPT and PATHs are the image's inputs).
#
# Skipping: an image's input key hashes its inputs (file names, modes, contents), its version,
# epoch and revision, and what the caller adds. The key is recorded BESIDE the image, never in it:
# after a build, REF gets a second tag REF-inputs-<first 12 hex of the key>
# (finsig/app:0.1.0-inputs-1a2b3c4d5e6f). The build is skipped only when REF and that tag name the
# same image ID, so nothing that differs per run or per recipe edit sits in the image's config.
#
#   image_names                 every name, in build order
#   image_names_built_by SCRIPT the names SCRIPT builds, in build order
#   image_ref NAME              REPOSITORY:<version of PROJECT>
#   image_refs                  every image's ref, in build order
#   image_inputs NAME           SCRIPT and PATHs, one per line
#   image_script NAME           SCRIPT, the script that builds NAME
#   image_epoch NAME            source_date_epoch of the inputs (SOURCE_DATE_EPOCH, CREATED)
#   image_revision NAME         source_revision of the inputs (REVISION)
#   image_key NAME [EXTRA...] [-- LINE...]
#                               the input key; EXTRA files or directories outside the sources are
#                               hashed by content (names relative to each), LINEs added as text
#   image_is_current REF KEY    true when REF-inputs-<key> names REF's image
#   image_record REF KEY [PREVIOUS_ID]
#                               after a build of REF: tag the record, drop this REF's older records,
#                               remove PREVIOUS_ID when no tag uses it any more (an image that
#                               another tag, a container or a child image uses stays)

IMAGE_SET=runner/src/finsig_runner/bundle/image-set.txt

_image_line() {  # NAME -> the set's line for NAME, comments and blank lines left out
  local line
  line=$(awk -v name="$1" '{ sub(/#.*/, "") } NF && $1 == name { print; exit }' "$IMAGE_SET")
  if [[ -z $line ]]; then
    echo "images: no image '$1' in $IMAGE_SET" >&2
    return 1
  fi
  echo "$line"
}

image_names() {
  awk '{ sub(/#.*/, "") } NF { print $1 }' "$IMAGE_SET"
}

image_names_built_by() {
  awk -v script="$1" '{ sub(/#.*/, "") } NF && $5 == script { print $1 }' "$IMAGE_SET"
}

image_ref() {
  local line fields
  line=$(_image_line "$1") || return 1
  read -r -a fields <<<"$line"
  echo "${fields[1]}:$(project_version "${fields[2]}")"
}

image_refs() {
  local name
  for name in $(image_names); do image_ref "$name"; done
}

image_inputs() {
  local line fields
  line=$(_image_line "$1") || return 1
  read -r -a fields <<<"$line"
  printf '%s\n' "${fields[@]:4}"
}

image_script() {
  local line fields
  line=$(_image_line "$1") || return 1
  read -r -a fields <<<"$line"
  echo "${fields[4]}"
}

image_epoch() {
  local inputs
  mapfile -t inputs < <(image_inputs "$1")
  source_date_epoch "${inputs[@]}"
}

image_revision() {
  local inputs
  mapfile -t inputs < <(image_inputs "$1")
  source_revision "${inputs[@]}"
}

_image_files() {  # PATH: "<name> <mode> <sha256>" for every file under PATH (a file or directory)
  # -H: a symlinked input (vulndb -> ../main/vulndb in a worktree) counts by what it points at.
  # A cache file that vanishes meanwhile (others running the code) must not stop the build.
  find -H "$1" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -printf '%p %m\n' 2>/dev/null |
    LC_ALL=C sort
  find -H "$1" -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 2>/dev/null |
    LC_ALL=C sort -z | { xargs -0 --no-run-if-empty sha256sum 2>/dev/null || true; }
}

image_key() {
  local name=$1 path extras=() lines=() inputs
  shift
  while (($#)) && [[ $1 != -- ]]; do extras+=("$1"); shift; done
  if (($#)); then shift; lines=("$@"); fi
  mapfile -t inputs < <(image_inputs "$name")
  ((${#inputs[@]})) || return 1
  for path in "${inputs[@]}" "${extras[@]}"; do
    [[ -e $path ]] || { echo "images: input $path of $name does not exist" >&2; return 1; }
  done
  {
    echo "image=$name ref=$(image_ref "$name")"
    echo "epoch=$(image_epoch "$name") revision=$(image_revision "$name")"
    for path in "${inputs[@]}"; do _image_files "$path"; done
    for path in "${extras[@]}"; do
      if [[ -d $path ]]; then (cd "$path" && _image_files .); else sha256sum <"$path"; fi
    done
    printf '%s\n' "${lines[@]}"
  } | sha256sum | cut -d' ' -f1
}

_image_record_tag() {  # REF KEY -> REF-inputs-<12 hex>
  echo "$1-inputs-${2:0:12}"
}

image_is_current() {
  local ids
  ids=$(docker image inspect --format '{{.Id}}' "$1" "$(_image_record_tag "$1" "$2")" \
    2>/dev/null) || return 1
  [[ $(sort -u <<<"$ids" | wc -l) == 1 ]]
}

image_record() {
  local ref=$1 key=$2 previous=${3:-} record repo tag old new used
  record=$(_image_record_tag "$ref" "$key")
  repo=${ref%:*} tag=${ref##*:}
  docker tag "$ref" "$record"
  # Older records of this REF named images it no longer is; removing the tag removes the image
  # only when it was the image's last tag and nothing else uses it.
  while read -r old; do
    if [[ $old == "$tag-inputs-"* && "$repo:$old" != "$record" ]]; then
      docker image rm "$repo:$old" >/dev/null 2>&1 || true
    fi
  done < <(docker image ls --format '{{.Tag}}' "$repo")
  new=$(docker image inspect --format '{{.Id}}' "$ref")
  if [[ -n $previous && $previous != "$new" ]]; then
    used=$(docker image inspect --format '{{len .RepoTags}}' "$previous" 2>/dev/null) || used=gone
    if [[ $used == 0 ]]; then
      docker image rm "$previous" >/dev/null 2>&1 || true  # refused while a container uses it
    fi
  fi
}
