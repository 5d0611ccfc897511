"""The staging configuration read against the compose file, before anything starts.

Every service the configuration names must be in the compose file; a healthcheck-only readiness
probe needs a service with a healthcheck; the scrape check and the fault drill need Prometheus
(the service that mounts prometheus.yml). Alertmanager is where Prometheus' own configuration
sends alerts. Bodies and expectations are read from their files here. A problem is a ConfigError
naming the key (the stage is ERROR, nothing started).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from finsig_runner.containers.compose import ComposeProject
from finsig_runner.core.config import Probe, SmokeRequest, StagingSettings
from finsig_runner.core.errors import ConfigError
from finsig_runner.stages.staging_compose import (
    CONFIG_NAME,
    NoPrometheus,
    prometheus_port,
    prometheus_service,
)


@dataclass(frozen=True)
class Endpoint:
    service: str
    port: int


@dataclass(frozen=True)
class Monitoring:
    """Prometheus and Alertmanager in the stack, and what Prometheus' files say it must have."""

    prometheus: Endpoint | None
    absent: str = ""  # why there is no Prometheus
    alertmanager: Endpoint | None = None
    jobs: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Topology:
    settings: StagingSettings
    monitoring: Monitoring
    bodies: Mapping[str, Any] = field(default_factory=dict)  # smoke name -> JSON body
    expectations: Mapping[str, Any] = field(default_factory=dict)  # smoke name -> expectation


def resolve(project: ComposeProject, settings: StagingSettings, workspace: Path) -> Topology:
    _services_exist(project, settings)
    monitoring = read_monitoring(project)
    needs = "staging.scrape" if settings.scrape else "staging.faults" if settings.faults else ""
    if needs and monitoring.prometheus is None:
        raise ConfigError(f"{needs} needs Prometheus in the stack: {monitoring.absent}", key=needs)
    bodies: dict[str, Any] = {}
    expectations: dict[str, Any] = {}
    for index, request in enumerate(settings.smoke):
        key = f"staging.smoke[{index}]"
        body = _value(workspace, request.body_file, request.body, f"{key}.body_file")
        if body is not None:
            bodies[request.name] = body
        expected = _value(workspace, request.expect_file, request.expect, f"{key}.expect_file")
        if expected is not None:
            expectations[request.name] = expected
    return Topology(settings, monitoring, bodies, expectations)


def _services_exist(project: ComposeProject, settings: StagingSettings) -> None:
    named: list[tuple[str, str]] = [(f"staging.ready[{i}].service", p.service)
                                    for i, p in enumerate(settings.ready)]
    named += [(f"staging.smoke[{i}].service", r.service) for i, r in enumerate(settings.smoke)]
    for i, fault in enumerate(settings.faults):
        named.append((f"staging.faults[{i}].stop", fault.stop))
        named += [(f"staging.faults[{i}].while_down[{j}].service", p.service)
                  for j, p in enumerate(fault.while_down)]
    if settings.scrape and settings.scrape.service:
        named.append(("staging.scrape.service", settings.scrape.service))
    where = project.path.name if project.path else "the compose file"
    for key, service in named:
        if service not in project.services:
            raise ConfigError(f"{key}: no service {service!r} in {where} (its services: "
                              f"{', '.join(project.services)})", key=key)
    for i, probe in enumerate(settings.ready):
        if probe.healthcheck_only and project.services[probe.service].healthcheck is None:
            key = f"staging.ready[{i}]"
            raise ConfigError(f"{key}: service {probe.service!r} has no healthcheck in {where}: "
                              "give the probe a port and a path", key=key)


def _value(workspace: Path, file: str, inline: Any, key: str) -> Any:
    if not file:
        return inline
    path = Path(file) if Path(file).is_absolute() else workspace / file
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{key}: cannot read {path}: {exc.strerror or exc}", key=key) from exc
    except ValueError as exc:
        raise ConfigError(f"{key}: {path} is not JSON: {exc}", key=key) from exc


def read_monitoring(project: ComposeProject) -> Monitoring:
    try:
        service = prometheus_service(project)
    except NoPrometheus as exc:
        return Monitoring(None, str(exc))
    jobs: list[str] = []
    groups: list[str] = []
    alertmanager: Endpoint | None = None
    for bind in service.binds:
        doc = _yaml(bind.path)
        jobs += [str(s.get("job_name")) for s in _dicts(doc.get("scrape_configs"))]
        groups += [str(g.get("name")) for g in _dicts(doc.get("groups"))]
        if bind.path.name == CONFIG_NAME:
            alertmanager = _alertmanager(doc, project)
    return Monitoring(Endpoint(service.name, prometheus_port(service)), "", alertmanager,
                      tuple(jobs), tuple(groups))


def _alertmanager(config: Mapping[str, Any], project: ComposeProject) -> Endpoint | None:
    """The first `alerting.alertmanagers[].static_configs[].targets[]` that is a service."""
    alerting = config.get("alerting")
    managers = alerting.get("alertmanagers") if isinstance(alerting, dict) else None
    for manager in _dicts(managers):
        for static in _dicts(manager.get("static_configs")):
            for target in static.get("targets") or []:
                host, _, port = str(target).rpartition(":")
                if host in project.services and port.isdigit():
                    return Endpoint(host, int(port))
    return None


def _yaml(path: Path) -> dict[str, Any]:
    """A mounted file's YAML mapping; {} for anything else (Prometheus says what is wrong)."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def http_probes(settings: StagingSettings) -> tuple[Probe, ...]:
    """The readiness probes that ask over HTTP (not only a healthcheck)."""
    return tuple(p for p in settings.ready if not p.healthcheck_only)


def replayable(settings: StagingSettings) -> tuple[SmokeRequest, ...]:
    """The smoke requests that only read (GET): sent again after a recovery."""
    return tuple(r for r in settings.smoke if r.method == "GET")
