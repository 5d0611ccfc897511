"""Reading a compose file: the top level (services, volumes, x-* extensions) into a
ComposeProject."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from finsig_runner.containers.compose.dependencies import check_dependencies, start_levels
from finsig_runner.containers.compose.model import ComposeError, ComposeProject, Service
from finsig_runner.containers.compose.service import parse_service
from finsig_runner.containers.compose.strict_yaml import load_yaml
from finsig_runner.containers.compose.values import check_keys, string_map


TOP_LEVEL_KEYS = frozenset({"services", "volumes"})
VOLUME_KEYS = frozenset({"labels"})
_SERVICE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def load_compose(path: Path, env: Mapping[str, str] | None = None) -> ComposeProject:
    """Read and parse a compose file; bind-mount sources resolve against its directory."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ComposeError(f"cannot read compose file {path}: {exc.strerror or exc}") from exc
    return parse_compose(text, base_dir=path.parent, env=env, path=path)


def parse_compose(
    text: str,
    base_dir: Path,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> ComposeProject:
    """Parse compose YAML text. `env` feeds `${VAR}` interpolation (empty when None)."""
    document = load_yaml(text)
    if not isinstance(document, dict):
        raise ComposeError("the compose file must be a mapping with a 'services' key")
    check_keys(document, TOP_LEVEL_KEYS, "", allow_extensions=True)
    variables = dict(env or {})

    volumes = _parse_top_volumes(document.get("volumes"), variables)
    raw_services = document.get("services")
    if not isinstance(raw_services, dict) or not raw_services:
        raise ComposeError("must be a non-empty mapping of service names", key="services")

    services: dict[str, Service] = {}
    for name, raw in raw_services.items():
        if not isinstance(name, str) or not _SERVICE_NAME.fullmatch(name):
            raise ComposeError(f"invalid service name {name!r}", key="services")
        services[name] = parse_service(name, raw, variables, base_dir, volumes)

    check_dependencies(services)
    return ComposeProject(
        path=path,
        services=MappingProxyType(services),
        volumes=MappingProxyType(volumes),
        start_levels=start_levels(services),
    )


def _parse_top_volumes(raw: object, env: Mapping[str, str]) -> dict[str, Mapping[str, str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ComposeError("must be a mapping of volume names", key="volumes")
    volumes: dict[str, Mapping[str, str]] = {}
    for name, spec in raw.items():
        where = f"volumes.{name}"
        if not isinstance(name, str) or not _VOLUME_NAME.fullmatch(name):
            raise ComposeError(f"invalid volume name {name!r}", key="volumes")
        if spec is None:
            volumes[name] = MappingProxyType({})
            continue
        if not isinstance(spec, dict):
            raise ComposeError("must be empty or a mapping with 'labels'", key=where)
        check_keys(spec, VOLUME_KEYS, where)
        volumes[name] = string_map(spec.get("labels"), env, f"{where}.labels")
    return volumes
