"""The part of the Compose format the staging stage understands, parsed into frozen dataclasses.

docker-compose.staging.yml is the single source of truth for the staging topology: people run it
with `docker-compose`, the `staging` stage reads it here and brings up the same services with
testcontainers. The stage understands a small subset of the format (docs/monitoring.md lists it):

    top level   services, volumes (named, optionally with labels), x-* extension fields
    service     image, environment, command, healthcheck (test, interval, timeout, retries,
                start_period), depends_on (list, or map with condition service_started /
                service_healthy), ports ("127.0.0.1::PORT" or "127.0.0.1:HOST:PORT"), labels,
                volumes (a declared named volume, or a ./relative config file bind mount)

Anything else -- an unknown key at any level, a port not bound to 127.0.0.1, a dependency on an
unknown service, a cycle -- raises ComposeError naming the key or service. Nothing is silently
ignored: a key the stage would drop is a difference between what people run and what is tested.

String values are interpolated like Compose does (`$$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
`${VAR-default}`, `${VAR:?message}`, `${VAR?message}`) from a mapping the caller gives (never
os.environ implicitly); a variable that is unset and has no default is an error, not "".
"""

from __future__ import annotations

import enum
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import yaml

from finsig_runner.core import graph

__all__ = [
    "BindMount",
    "ComposeError",
    "ComposeProject",
    "Condition",
    "Dependency",
    "Healthcheck",
    "Port",
    "Service",
    "VolumeMount",
    "interpolate",
    "load_compose",
    "parse_compose",
    "parse_duration",
    "start_levels",
]

LOOPBACK = "127.0.0.1"

TOP_LEVEL_KEYS = frozenset({"services", "volumes"})
SERVICE_KEYS = frozenset(
    {"image", "environment", "command", "healthcheck", "depends_on", "ports", "labels", "volumes"}
)
HEALTHCHECK_KEYS = frozenset({"test", "interval", "timeout", "retries", "start_period"})
VOLUME_KEYS = frozenset({"labels"})
DEPENDS_ON_KEYS = frozenset({"condition"})

# Docker's own defaults for a healthcheck key that is left out.
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_START_PERIOD = 0.0


class ComposeError(ValueError):
    """The compose file is outside the subset the staging stage understands, or inconsistent.

    `key` is the dotted path of the offending key (e.g. "services.app.ports[0]") when there is one,
    `service` the service it belongs to.
    """

    def __init__(self, message: str, key: str | None = None, service: str | None = None) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.service = service


class Condition(str, enum.Enum):
    STARTED = "service_started"
    HEALTHY = "service_healthy"


@dataclass(frozen=True)
class Healthcheck:
    """A container healthcheck; durations in seconds. `test` keeps its CMD / CMD-SHELL head."""

    test: tuple[str, ...]
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    start_period: float = DEFAULT_START_PERIOD

    def to_docker(self) -> dict[str, Any]:
        """The `healthcheck` argument of the Docker API / SDK (durations in nanoseconds)."""
        return {
            "test": list(self.test),
            "interval": _nanoseconds(self.interval),
            "timeout": _nanoseconds(self.timeout),
            "retries": self.retries,
            "start_period": _nanoseconds(self.start_period),
        }


@dataclass(frozen=True)
class Dependency:
    service: str
    condition: Condition = Condition.STARTED


@dataclass(frozen=True)
class Port:
    """A container port published on 127.0.0.1; host_port None means "any free port"."""

    container_port: int
    host_port: int | None = None
    host_ip: str = LOOPBACK
    protocol: str = "tcp"


@dataclass(frozen=True)
class VolumeMount:
    """A named volume (declared at the top level) mounted at `target`."""

    volume: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class BindMount:
    """A config file next to the compose file; the stage copies it in instead of bind-mounting.

    `source` is as written (relative to the compose file), `path` the resolved file on disk.
    """

    source: str
    path: Path
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class Service:
    name: str
    image: str
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    command: tuple[str, ...] | None = None
    healthcheck: Healthcheck | None = None
    depends_on: tuple[Dependency, ...] = ()
    ports: tuple[Port, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    volumes: tuple[VolumeMount, ...] = ()
    binds: tuple[BindMount, ...] = ()


@dataclass(frozen=True)
class ComposeProject:
    """The parsed file: services by name (file order), named volumes, and the start order."""

    path: Path | None
    services: Mapping[str, Service]
    volumes: Mapping[str, Mapping[str, str]]
    start_levels: tuple[tuple[str, ...], ...]

    @property
    def start_order(self) -> tuple[str, ...]:
        """Every service once, dependencies first (the levels flattened)."""
        return tuple(name for level in self.start_levels for name in level)


# --- entry points --------------------------------------------------------------------------------


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
    document = _load_yaml(text)
    if not isinstance(document, dict):
        raise ComposeError("the compose file must be a mapping with a 'services' key")
    _check_keys(document, TOP_LEVEL_KEYS, "", allow_extensions=True)
    variables = dict(env or {})

    volumes = _parse_top_volumes(document.get("volumes"), variables)
    raw_services = document.get("services")
    if not isinstance(raw_services, dict) or not raw_services:
        raise ComposeError("must be a non-empty mapping of service names", key="services")

    services: dict[str, Service] = {}
    for name, raw in raw_services.items():
        if not isinstance(name, str) or not _SERVICE_NAME.fullmatch(name):
            raise ComposeError(f"invalid service name {name!r}", key="services")
        services[name] = _parse_service(name, raw, variables, base_dir, volumes)

    _check_dependencies(services)
    return ComposeProject(
        path=path,
        services=MappingProxyType(services),
        volumes=MappingProxyType(volumes),
        start_levels=start_levels(services),
    )


# --- interpolation -------------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<invalid>))"
)


def interpolate(value: str, env: Mapping[str, str], key: str = "") -> str:
    """Compose-style variable substitution in one string value."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped") is not None:
            return "$"
        if match.group("invalid") is not None:
            raise ComposeError(f"invalid interpolation in {value!r} (write $$ for a $)", key)
        name = match.group("plain") or match.group("braced")
        op = match.group("op")
        current = env.get(name)
        empty = current is None or current == ""
        if op in (":-", "-"):
            missing = empty if op == ":-" else current is None
            return match.group("arg") if missing else str(current)
        if op in (":?", "?"):
            missing = empty if op == ":?" else current is None
            if missing:
                reason = match.group("arg") or "required"
                raise ComposeError(f"variable {name} is not set: {reason}", key)
            return str(current)
        if current is None:
            raise ComposeError(f"variable {name} is not set and has no default", key)
        return current

    return _VARIABLE.sub(substitute, value)


# --- durations -----------------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")
_DURATION_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(value: object, key: str = "") -> float:
    """A Compose duration ("1m30s", "500ms", "10s") in seconds."""
    if not isinstance(value, str) or not value:
        raise ComposeError(f"expected a duration such as '5s', got {value!r}", key)
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position != len(value):
        raise ComposeError(f"expected a duration such as '5s', got {value!r}", key)
    return total


def _nanoseconds(seconds: float) -> int:
    return int(round(seconds * 1_000_000_000))


# --- YAML ----------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    # Only keys written in this mapping count: a key that overrides one merged in with `<<: *x`
    # is what merge keys are for.
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        if key in seen:
            raise ComposeError(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
        seen.add(key)
    loader.flatten_mapping(node)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ComposeError(f"not valid YAML: {exc}") from exc


# --- sections ------------------------------------------------------------------------------------

_SERVICE_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_VOLUME_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")


def _check_keys(
    raw: Mapping[Any, Any],
    allowed: frozenset[str],
    where: str,
    service: str | None = None,
    allow_extensions: bool = False,
) -> None:
    for key in raw:
        if allow_extensions and isinstance(key, str) and key.startswith("x-"):
            continue
        if key not in allowed:
            path = f"{where}.{key}" if where else str(key)
            supported = ", ".join(sorted(allowed))
            raise ComposeError(
                f"unsupported key {key!r} (the staging stage understands: {supported})",
                key=path,
                service=service,
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
        _check_keys(spec, VOLUME_KEYS, where)
        volumes[name] = _string_map(spec.get("labels"), env, f"{where}.labels")
    return volumes


def _parse_service(
    name: str,
    raw: object,
    env: Mapping[str, str],
    base_dir: Path,
    volumes: Mapping[str, Mapping[str, str]],
) -> Service:
    where = f"services.{name}"
    if not isinstance(raw, dict):
        raise ComposeError("must be a mapping", key=where, service=name)
    _check_keys(raw, SERVICE_KEYS, where, service=name)
    try:
        image = raw.get("image")
        if not isinstance(image, str) or not image:
            raise ComposeError("an image is required (the stage never builds)", f"{where}.image")
        image = interpolate(image, env, f"{where}.image")
        if not image or ":" not in image.rsplit("/", 1)[-1]:
            raise ComposeError(
                f"image {image!r} needs an explicit tag (no tag means :latest and a pull)",
                key=f"{where}.image",
            )
        mounts = _parse_mounts(raw.get("volumes"), env, where, base_dir, volumes)
        return Service(
            name=name,
            image=image,
            environment=_string_map(raw.get("environment"), env, f"{where}.environment"),
            command=_parse_command(raw.get("command"), env, f"{where}.command"),
            healthcheck=_parse_healthcheck(raw.get("healthcheck"), env, f"{where}.healthcheck"),
            depends_on=_parse_depends_on(raw.get("depends_on"), f"{where}.depends_on"),
            ports=_parse_ports(raw.get("ports"), env, f"{where}.ports"),
            labels=_string_map(raw.get("labels"), env, f"{where}.labels"),
            volumes=tuple(m for m in mounts if isinstance(m, VolumeMount)),
            binds=tuple(m for m in mounts if isinstance(m, BindMount)),
        )
    except ComposeError as exc:
        if exc.service is None:
            exc.service = name
        raise


def _scalar(value: object, env: Mapping[str, str], key: str) -> str:
    """A string (interpolated) or number as a string; booleans and null are refused like Compose."""
    if isinstance(value, bool) or value is None:
        raise ComposeError(f"{value!r} must be a string or a number (quote it)", key)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return interpolate(value, env, key)
    raise ComposeError(f"expected a string, got {type(value).__name__}", key)


def _string_map(raw: object, env: Mapping[str, str], key: str) -> Mapping[str, str]:
    """environment / labels: a mapping, or a list of "KEY=VALUE" strings."""
    result: dict[str, str] = {}
    if raw is None:
        return MappingProxyType(result)
    if isinstance(raw, dict):
        for name, value in raw.items():
            if not isinstance(name, str) or not name:
                raise ComposeError(f"invalid name {name!r}", key)
            result[name] = _scalar(value, env, f"{key}.{name}")
    elif isinstance(raw, list):
        for index, item in enumerate(raw):
            entry = _scalar(item, env, f"{key}[{index}]") if isinstance(item, str) else None
            if entry is None or "=" not in entry:
                raise ComposeError(
                    f"expected 'NAME=value' (a bare NAME would read the host's environment), "
                    f"got {item!r}",
                    f"{key}[{index}]",
                )
            name, value = entry.split("=", 1)
            if name in result:
                raise ComposeError(f"{name} is given twice", f"{key}[{index}]")
            result[name] = value
    else:
        raise ComposeError("expected a mapping or a list of NAME=value", key)
    return MappingProxyType(result)


def _string_list(raw: object, env: Mapping[str, str], key: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise ComposeError("expected a non-empty list of strings", key)
    return tuple(_scalar(item, env, f"{key}[{index}]") for index, item in enumerate(raw))


def _parse_command(raw: object, env: Mapping[str, str], key: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        words = shlex.split(interpolate(raw, env, key))
        if not words:
            raise ComposeError("empty command", key)
        return tuple(words)
    return _string_list(raw, env, key)


def _parse_healthcheck(raw: object, env: Mapping[str, str], key: str) -> Healthcheck | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ComposeError("expected a mapping", key)
    _check_keys(raw, HEALTHCHECK_KEYS, key)
    test_raw = raw.get("test")
    if isinstance(test_raw, str):
        test: tuple[str, ...] = ("CMD-SHELL", interpolate(test_raw, env, f"{key}.test"))
    else:
        test = _string_list(test_raw, env, f"{key}.test")
        if test[0] not in ("CMD", "CMD-SHELL") or len(test) < 2:
            raise ComposeError(
                "test must be a string or a list starting with CMD or CMD-SHELL plus a command",
                f"{key}.test",
            )
        if test[0] == "CMD-SHELL" and len(test) != 2:
            raise ComposeError("CMD-SHELL takes exactly one shell string", f"{key}.test")
    retries = raw.get("retries", DEFAULT_RETRIES)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 1:
        raise ComposeError(f"retries must be a positive integer, got {retries!r}", f"{key}.retries")

    def duration(name: str, default: float) -> float:
        value = raw.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            value = interpolate(value, env, f"{key}.{name}")
        return parse_duration(value, f"{key}.{name}")

    healthcheck = Healthcheck(
        test=test,
        interval=duration("interval", DEFAULT_INTERVAL),
        timeout=duration("timeout", DEFAULT_TIMEOUT),
        retries=retries,
        start_period=duration("start_period", DEFAULT_START_PERIOD),
    )
    if healthcheck.interval <= 0 or healthcheck.timeout <= 0:
        raise ComposeError("interval and timeout must be longer than zero", key)
    return healthcheck


def _parse_depends_on(raw: object, key: str) -> tuple[Dependency, ...]:
    if raw is None:
        return ()
    dependencies: list[Dependency] = []
    if isinstance(raw, list):
        for index, item in enumerate(raw):
            if not isinstance(item, str):
                raise ComposeError(f"expected a service name, got {item!r}", f"{key}[{index}]")
            dependencies.append(Dependency(item))
    elif isinstance(raw, dict):
        for name, spec in raw.items():
            where = f"{key}.{name}"
            if not isinstance(spec, dict):
                raise ComposeError("expected a mapping with 'condition'", where)
            _check_keys(spec, DEPENDS_ON_KEYS, where)
            condition = spec.get("condition", Condition.STARTED.value)
            try:
                dependencies.append(Dependency(str(name), Condition(condition)))
            except ValueError:
                known = ", ".join(c.value for c in Condition)
                raise ComposeError(
                    f"unsupported condition {condition!r} (supported: {known})",
                    f"{where}.condition",
                ) from None
    else:
        raise ComposeError("expected a list of services or a mapping with conditions", key)
    names = [d.service for d in dependencies]
    if len(set(names)) != len(names):
        raise ComposeError("a service is listed twice", key)
    return tuple(dependencies)


_PORT = re.compile(
    r"(?:(?P<ip>[0-9.]+|\[[0-9a-fA-F:]+\]):)?(?:(?P<host>\d*):)?"
    r"(?P<container>\d+)(?:/(?P<proto>tcp|udp))?"
)


def _parse_ports(raw: object, env: Mapping[str, str], key: str) -> tuple[Port, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ComposeError("expected a list of \"127.0.0.1::PORT\" strings", key)
    ports: list[Port] = []
    for index, item in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(item, str):
            raise ComposeError(
                f"write ports as quoted \"127.0.0.1::PORT\" strings, got {item!r}", where
            )
        spec = interpolate(item, env, where)
        match = _PORT.fullmatch(spec)
        if match is None:
            raise ComposeError(f"cannot read port {spec!r} (expected \"127.0.0.1::PORT\")", where)
        if match.group("ip") != LOOPBACK:
            raise ComposeError(
                f"port {spec!r} is not bound to {LOOPBACK}: publish as \"{LOOPBACK}::PORT\"", where
            )
        container = int(match.group("container"))
        host = int(match.group("host")) if match.group("host") else None
        for number in (container, host):
            if number is not None and not 0 < number < 65536:
                raise ComposeError(f"port {number} out of range", where)
        ports.append(Port(container, host, LOOPBACK, match.group("proto") or "tcp"))
    return tuple(ports)


def _parse_mounts(
    raw: object,
    env: Mapping[str, str],
    service_key: str,
    base_dir: Path,
    volumes: Mapping[str, Mapping[str, str]],
) -> list[VolumeMount | BindMount]:
    key = f"{service_key}.volumes"
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ComposeError("expected a list of \"SOURCE:TARGET[:ro]\" strings", key)
    mounts: list[VolumeMount | BindMount] = []
    targets: set[str] = set()
    for index, item in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(item, str):
            raise ComposeError("only the short \"SOURCE:TARGET[:ro]\" syntax is supported", where)
        parts = interpolate(item, env, where).split(":")
        if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("ro", "rw")):
            raise ComposeError(f"expected \"SOURCE:TARGET[:ro|:rw]\", got {item!r}", where)
        source, target = parts[0], parts[1]
        read_only = len(parts) == 3 and parts[2] == "ro"
        if not PurePosixPath(target).is_absolute():
            raise ComposeError(f"target {target!r} must be an absolute path", where)
        if target in targets:
            raise ComposeError(f"target {target!r} is mounted twice", where)
        targets.add(target)
        if source.startswith(("./", "../")):
            mounts.append(_bind_mount(source, target, read_only, base_dir, where))
        elif source.startswith(("/", "~")):
            raise ComposeError(
                f"bind source {source!r} must be relative to the compose file (./...)", where
            )
        elif source in volumes:
            mounts.append(VolumeMount(source, target, read_only))
        else:
            raise ComposeError(
                f"named volume {source!r} is not declared under the top-level 'volumes'", where
            )
    return mounts


def _bind_mount(source: str, target: str, read_only: bool, base_dir: Path, key: str) -> BindMount:
    path = (base_dir / source).resolve()
    if not path.is_file():
        raise ComposeError(
            f"bind source {source!r} must be an existing file next to the compose file "
            f"(the stage copies config files in; directories are not supported)",
            key,
        )
    return BindMount(source, path, target, read_only)


# --- dependency graph ----------------------------------------------------------------------------


def _check_dependencies(services: Mapping[str, Service]) -> None:
    for service in services.values():
        for dependency in service.depends_on:
            key = f"services.{service.name}.depends_on.{dependency.service}"
            target = services.get(dependency.service)
            if target is None:
                raise ComposeError(
                    f"depends on unknown service {dependency.service!r}", key, service.name
                )
            if dependency.service == service.name:
                raise ComposeError("a service cannot depend on itself", key, service.name)
            if dependency.condition is Condition.HEALTHY and target.healthcheck is None:
                raise ComposeError(
                    f"waits for {dependency.service!r} to be healthy, but it has no healthcheck",
                    key,
                    service.name,
                )


def start_levels(services: Mapping[str, Service]) -> tuple[tuple[str, ...], ...]:
    """Services grouped into start levels: each level depends only on earlier ones.

    Services in the same level can start in parallel. Names are sorted within a level so the order
    is the same on every run. A cycle raises ComposeError naming the services in it.
    """
    try:
        return graph.levels({name: [d.service for d in s.depends_on]
                             for name, s in services.items()})
    except graph.CycleFound as exc:
        first = exc.cycle[0]
        raise ComposeError(f"forms a cycle: {exc}", f"services.{first}.depends_on",
                           first) from exc
