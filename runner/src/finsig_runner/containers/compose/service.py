"""One service of a compose file: image, environment, command, healthcheck, depends_on, ports,
labels and volumes, each checked against the subset the stage understands."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from finsig_runner.containers.compose.model import (
    DEFAULT_INTERVAL,
    DEFAULT_RETRIES,
    DEFAULT_START_PERIOD,
    DEFAULT_TIMEOUT,
    LOOPBACK,
    BindMount,
    ComposeError,
    Condition,
    Dependency,
    Healthcheck,
    Port,
    Service,
    VolumeMount,
)
from finsig_runner.containers.compose.values import (
    check_keys,
    interpolate,
    parse_duration,
    string_list,
    string_map,
)


SERVICE_KEYS = frozenset(
    {"image", "environment", "command", "healthcheck", "depends_on", "ports", "labels", "volumes"}
)
HEALTHCHECK_KEYS = frozenset({"test", "interval", "timeout", "retries", "start_period"})
DEPENDS_ON_KEYS = frozenset({"condition"})


def parse_service(
    name: str,
    raw: object,
    env: Mapping[str, str],
    base_dir: Path,
    volumes: Mapping[str, Mapping[str, str]],
) -> Service:
    where = f"services.{name}"
    if not isinstance(raw, dict):
        raise ComposeError("must be a mapping", key=where, service=name)
    check_keys(raw, SERVICE_KEYS, where, service=name)
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
            environment=string_map(raw.get("environment"), env, f"{where}.environment"),
            command=_parse_command(raw.get("command"), env, f"{where}.command"),
            healthcheck=_parse_healthcheck(raw.get("healthcheck"), env, f"{where}.healthcheck"),
            depends_on=_parse_depends_on(raw.get("depends_on"), f"{where}.depends_on"),
            ports=_parse_ports(raw.get("ports"), env, f"{where}.ports"),
            labels=string_map(raw.get("labels"), env, f"{where}.labels"),
            volumes=tuple(m for m in mounts if isinstance(m, VolumeMount)),
            binds=tuple(m for m in mounts if isinstance(m, BindMount)),
        )
    except ComposeError as exc:
        if exc.service is None:
            exc.service = name
        raise


def _parse_command(raw: object, env: Mapping[str, str], key: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        words = shlex.split(interpolate(raw, env, key))
        if not words:
            raise ComposeError("empty command", key)
        return tuple(words)
    return string_list(raw, env, key)


def _parse_healthcheck(raw: object, env: Mapping[str, str], key: str) -> Healthcheck | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ComposeError("expected a mapping", key)
    check_keys(raw, HEALTHCHECK_KEYS, key)
    test_raw = raw.get("test")
    if isinstance(test_raw, str):
        test: tuple[str, ...] = ("CMD-SHELL", interpolate(test_raw, env, f"{key}.test"))
    else:
        test = string_list(test_raw, env, f"{key}.test")
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
            check_keys(spec, DEPENDS_ON_KEYS, where)
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
