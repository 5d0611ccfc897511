"""The image config: read it, normalise what the legacy builder stamps per build, serialise it
canonically (the image ID is the sha256 of these bytes, so the serialisation is part of the ID)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from finsig_runner.oci.errors import ImageFormatError

# The build container the legacy builder ran the last step in: its ID, and a copy of the config
# whose Hostname is that ID and whose Cmd is the last step. Neither is part of what runs.
DROPPED_FIELDS = ("container", "container_config")
# Inside `config`: the hostname of the build container and the intermediate image the last step
# started from (a build-cache ID that is itself not reproducible). Made empty, as in a fresh image.
EMPTIED_RUN_FIELDS = ("Hostname", "Image")


def rfc3339(epoch: int) -> str:
    """SOURCE_DATE_EPOCH as an RFC 3339 UTC timestamp, e.g. 2026-11-26T04:05:40Z."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, ASCII: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def parse_object(raw: bytes, where: str) -> dict[str, Any]:
    """A JSON object from `raw`, or ImageFormatError naming `where`."""
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImageFormatError(where, f"not JSON ({exc})") from exc
    if not isinstance(value, dict):
        raise ImageFormatError(where, f"expected a JSON object, found {type(value).__name__}")
    return value


def diff_ids(config: dict[str, Any], where: str) -> tuple[str, ...]:
    """rootfs.diff_ids of a config, checked to be sha256 digests."""
    rootfs = config.get("rootfs")
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ImageFormatError(where, "rootfs.diff_ids is missing or not a list of digests")
    for digest in ids:
        if not digest.startswith("sha256:") or len(digest) != 71:
            raise ImageFormatError(where, f"diff_id {digest!r} is not a sha256 digest")
    return tuple(ids)


def normalise_config(raw: bytes, epoch: int, layer_ids: Sequence[str]) -> bytes:
    """The config with every per-build stamp replaced, `layer_ids` as its diff_ids, canonical.

    `created` and every history entry's `created` become SOURCE_DATE_EPOCH; the build container's
    traces go (DROPPED_FIELDS, EMPTIED_RUN_FIELDS). Everything else — Env, Cmd, Entrypoint,
    Labels, User, history's created_by, docker_version — is kept: it is what the recipe and the
    engine made, and a difference there is a real difference.
    """
    config = parse_object(raw, "config")
    old_ids = diff_ids(config, "config")
    if len(old_ids) != len(layer_ids):
        raise ImageFormatError("config", f"{len(old_ids)} diff_ids for {len(layer_ids)} layers")
    created = rfc3339(epoch)
    config["created"] = created
    history = config.get("history")
    if isinstance(history, list):
        for entry in history:
            if isinstance(entry, dict) and "created" in entry:
                entry["created"] = created
    for name in DROPPED_FIELDS:
        config.pop(name, None)
    run = config.get("config")
    if isinstance(run, dict):
        for name in EMPTIED_RUN_FIELDS:
            if name in run:
                run[name] = ""
    config["rootfs"] = {"type": "layers", "diff_ids": list(layer_ids)}
    return canonical_json(config)
