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
unknown service, a cycle -- raises ComposeError (a ConfigError, exit 2) naming the key or service.
Nothing is silently ignored: a key the stage would drop is a difference between what people run
and what is tested.

The package, by responsibility: model (the dataclasses and ComposeError), load (the top level),
service (one service's keys), values (interpolation, durations, scalars, maps), strict_yaml
(duplicate keys refused), dependencies (depends_on checked, start levels).

String values are interpolated like Compose does (`$$`, `$VAR`, `${VAR}`, `${VAR:-default}`,
`${VAR-default}`, `${VAR:?message}`, `${VAR?message}`) from a mapping the caller gives (never
os.environ implicitly); a variable that is unset and has no default is an error, not "".
"""

from finsig_runner.containers.compose.dependencies import start_levels
from finsig_runner.containers.compose.load import load_compose, parse_compose
from finsig_runner.containers.compose.model import (
    BindMount,
    ComposeError,
    ComposeProject,
    Condition,
    Dependency,
    Healthcheck,
    Port,
    Service,
    VolumeMount,
)
from finsig_runner.containers.compose.values import interpolate, parse_duration

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
