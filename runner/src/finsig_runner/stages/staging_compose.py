"""The staging compose file as the stages read it: the app image it is given, and which of its
services is Prometheus — the one that mounts a file named prometheus.yml.

`monitoring` runs promtool in that service's image and `staging` asks that service for targets,
rules and alerts, so both stages test the Prometheus the project deploys (no image name in the
runner).
"""

from __future__ import annotations

from pathlib import Path

from finsig_runner.containers.compose import ComposeError, ComposeProject, Service, load_compose
from finsig_runner.core.errors import ConfigError

# The compose file receives the run's app image in this variable (`${FINSIG_APP_IMAGE:-...}`).
APP_IMAGE_VARIABLE = "FINSIG_APP_IMAGE"
CONFIG_NAME = "prometheus.yml"
DEFAULT_PORT = 9090


class NoPrometheus(ConfigError):
    """No service (or more than one) mounts prometheus.yml, or the file does not parse."""


def compose_env(image: str) -> dict[str, str]:
    return {APP_IMAGE_VARIABLE: image} if image else {}


def prometheus_service(project: ComposeProject) -> Service:
    """The one service that mounts a prometheus.yml; NoPrometheus otherwise."""
    found = [s for s in project.services.values()
             if any(b.path.name == CONFIG_NAME for b in s.binds)]
    where = project.path.name if project.path else "the compose file"
    if not found:
        raise NoPrometheus(f"no service of {where} mounts a {CONFIG_NAME}")
    if len(found) > 1:
        raise NoPrometheus(f"more than one service of {where} mounts a {CONFIG_NAME}: "
                           + ", ".join(s.name for s in found))
    return found[0]


def prometheus_port(service: Service) -> int:
    """The first container port the service declares, else Prometheus' default 9090."""
    return service.ports[0].container_port if service.ports else DEFAULT_PORT


def prometheus_image(compose: Path, app_image: str = "") -> str:
    """The image of the compose file's Prometheus service; NoPrometheus naming the problem."""
    try:
        project = load_compose(compose, compose_env(app_image))
    except ComposeError as exc:
        raise NoPrometheus(f"{compose.name}: {exc}") from exc
    return prometheus_service(project).image
