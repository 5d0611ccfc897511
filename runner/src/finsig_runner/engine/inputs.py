"""A stage's inputs key: sha256 over what it declares it depends on (files by content)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from finsig_runner.core.context import StageContext
from finsig_runner.core.hashing import sha256_file
from finsig_runner.core.model import Stage, StageInputs


def key_of(inputs: StageInputs, workspace: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(inputs.files):
        full = path if path.is_absolute() else workspace / path
        digest.update(str(path).encode() + b"\0")
        digest.update(sha256_file(full).encode() if full.is_file() else b"<absent>")
        digest.update(b"\n")
    for pairs in (inputs.config, inputs.tools):
        digest.update(json.dumps(sorted(pairs)).encode() + b"\n")
    return digest.hexdigest()


def inputs_key(stage: Stage, ctx: StageContext) -> str:
    """The key, or `error: …` when the declared inputs cannot be read (the stage still decides)."""
    try:
        return key_of(stage.inputs(ctx), ctx.workspace)
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"
