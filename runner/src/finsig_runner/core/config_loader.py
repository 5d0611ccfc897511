"""Load RunnerConfig from its layers: CLI (`--set key=value`) > environment > pyproject > defaults.

Each layer is checked against schemas/runner-config.schema.json on its own, so that an error names
both the key and where it came from. An unknown key or a wrong type is a ConfigError (exit 2).
Environment variables are read only for known keys (FINSIG_RUNNER_<KEY>, upper case): other
FINSIG_RUNNER_* variables (e.g. FINSIG_RUNNER_NETWORK, set inside the runner image) are not config.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import tomllib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from finsig_runner.core.config import RunnerConfig, StagingSettings
from finsig_runner.core.errors import ConfigError
from finsig_runner.core.staging_settings import staging_settings

ENV_PREFIX = "FINSIG_RUNNER_"
TABLE = "tool.finsig-runner"
# Keys the run refuses to read: the code under test must never hold the signing key.
NOT_FOR_THE_RUN = {
    "signing_key": "the run never reads a signing key (the code under test could read it too): "
                   "set expected_signer to the key's fingerprint and seal the finished run with "
                   "`finsig-runner seal DIR --key FILE` (docs/threat-model.md)",
    "require_signature": "there is no require_signature any more: set expected_signer, seal with "
                         "`finsig-runner seal`, and verify with `finsig-runner verify --pubkey`",
}


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    source = resources.files("finsig_runner").joinpath("schemas/runner-config.schema.json")
    text = source.read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def known_keys() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(RunnerConfig))


def _validate(values: Mapping[str, Any], source: str) -> None:
    props = schema()["properties"]
    for key in values:
        if key in NOT_FOR_THE_RUN:
            raise ConfigError(f"{source}: {key}: {NOT_FOR_THE_RUN[key]}", key=key)
        if key not in props:
            raise ConfigError(f"{source}: unknown configuration key {key!r}", key=key)
    if not values:
        return
    # imported here: jsonschema's import costs ~2 s (rfc3987 grammar), --version need not pay it
    import jsonschema  # type: ignore[import-untyped]  # no stubs in the locked set

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(dict(values)), key=lambda e: [str(p) for p in e.path])
    for error in errors:
        key = key_path(error.path) or "?"
        message = error.message
        if error.validator == "not":  # the schema's "give one of two" rules
            message = ("give either a file or an inline value, not both (body_file/body, "
                       "expect_file/expect)")
        elif error.validator == "dependentRequired":
            message += ("; a probe gives port and path together, or neither (then the "
                        "service's healthcheck is the probe)")
        raise ConfigError(f"{source}: invalid value for {key!r}: {message}", key=key)


def key_path(parts: Iterable[Any]) -> str:
    """`staging`, `ready`, 0, `port` -> `staging.ready[0].port`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _parse_text(key: str, text: str, source: str) -> Any:
    """Turn an environment/CLI string into the type the schema wants for `key`."""
    if key in NOT_FOR_THE_RUN:
        raise ConfigError(f"{source}: {NOT_FOR_THE_RUN[key]}", key=key)
    spec = schema()["properties"].get(key)
    if spec is None:
        raise ConfigError(f"{source}: unknown configuration key {key!r}", key=key)
    kind = spec.get("type")
    try:
        if kind == "object":
            return json.loads(text)
        if kind == "array":
            if text.lstrip().startswith("["):
                return json.loads(text)
            return shlex.split(text)
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean":
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
    except ValueError as exc:
        raise ConfigError(
            f"{source}: invalid value for {key!r}: {text!r} is not a valid {kind}", key=key
        ) from exc
    return text


def read_pyproject(workspace: Path) -> dict[str, Any]:
    """The `[tool.finsig-runner]` table of the workspace's pyproject.toml ({} when absent)."""
    path = workspace / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    table = data.get("tool", {}).get("finsig-runner", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{TABLE}] must be a table", key=TABLE)
    return table


def from_env(env: Mapping[str, str]) -> dict[str, Any]:
    for key, why in NOT_FOR_THE_RUN.items():
        if ENV_PREFIX + key.upper() in env:
            raise ConfigError(f"environment {ENV_PREFIX + key.upper()}: {why}", key=key)
    values: dict[str, Any] = {}
    for key in schema()["properties"]:
        name = ENV_PREFIX + key.upper()
        if name in env:
            values[key] = _parse_text(key, env[name], f"environment {name}")
    return values


def from_overrides(overrides: Iterable[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE", key=key or None)
        values[key] = _parse_text(key, text, f"--set {key}")
    return values


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def load(
    workspace: Path,
    env: Mapping[str, str] | None = None,
    overrides: Iterable[str] = (),
) -> RunnerConfig:
    """Build the run's RunnerConfig. Raises ConfigError (exit 2) naming the key on any problem."""
    layers: list[tuple[str, dict[str, Any]]] = [
        (f"{workspace / 'pyproject.toml'} [{TABLE}]", read_pyproject(workspace)),
        ("environment", from_env(env or {})),
        ("--set", from_overrides(overrides)),
    ]
    merged: dict[str, Any] = {}
    staging: StagingSettings | None = None
    for source, values in layers:
        _validate(values, source)
        merged.update(values)
        if "staging" in values:
            try:
                staging = staging_settings(values["staging"])
            except ConfigError as exc:
                raise ConfigError(f"{source}: {exc}", key=exc.key) from exc
    fields = set(known_keys())
    for key in merged:
        if key not in fields:  # the schema knows a key the dataclass does not: a runner bug
            raise ConfigError(f"configuration key {key!r} has no field in RunnerConfig", key=key)
    defaults = RunnerConfig()
    typed: dict[str, Any] = {
        k: float(v) if isinstance(getattr(defaults, k), float) else _freeze(v)
        for k, v in merged.items()
    }
    if staging is not None:
        typed["staging"] = staging
    return RunnerConfig(**typed)


def to_json(config: RunnerConfig) -> dict[str, Any]:
    """The effective configuration as plain JSON values (for the event log and --dry-run)."""
    return {k: _plain(v) for k, v in dataclasses.asdict(config).items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
