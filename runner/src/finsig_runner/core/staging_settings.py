"""`[tool.finsig-runner.staging]` as typed settings, once the JSON schema has accepted it.

The schema checks each value; this adds what a schema cannot say: names that become check ids
must be unique (two `staging.smoke.signals` could not be told apart). Problems are ConfigErrors
(exit 2) naming the key, e.g. `staging.smoke[1].name`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from finsig_runner.core.config import Fault, Probe, Scrape, SmokeRequest, StagingSettings
from finsig_runner.core.errors import ConfigError

TABLE = "staging"


def staging_settings(raw: Mapping[str, Any]) -> StagingSettings:
    ready = tuple(_probe(p) for p in raw.get("ready") or ())
    smoke = tuple(_request(r) for r in raw.get("smoke") or ())
    faults = tuple(_fault(f) for f in raw.get("faults") or ())
    _unique("ready", [p.service for p in ready], "service")
    _unique("smoke", [r.name for r in smoke], "name")
    _unique("faults", [f.alert for f in faults], "alert")
    scrape = raw.get("scrape")
    return StagingSettings(
        ready=ready,
        scrape=Scrape(str(scrape["metric"]), str(scrape.get("labels", "")),
                      str(scrape.get("service", ""))) if scrape else None,
        smoke=smoke,
        faults=faults,
    )


def _unique(table: str, names: Sequence[str], field: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            key = f"{TABLE}.{table}[{index}].{field}"
            raise ConfigError(f"{key}: {name!r} is given twice (it names a check id: make each "
                              f"{field} unique)", key=key)
        seen.add(name)


def _probe(raw: Mapping[str, Any]) -> Probe:
    port = raw.get("port")
    return Probe(str(raw["service"]), int(port) if port is not None else None,
                 str(raw.get("path", "")), int(raw.get("status", 200)))


def _request(raw: Mapping[str, Any]) -> SmokeRequest:
    return SmokeRequest(
        name=str(raw["name"]), service=str(raw["service"]), port=int(raw["port"]),
        path=str(raw["path"]), method=str(raw.get("method", "GET")),
        body_file=str(raw.get("body_file", "")), body=raw.get("body"),
        status=int(raw.get("status", 200)), expect_file=str(raw.get("expect_file", "")),
        expect=raw.get("expect"), tolerance=float(raw.get("tolerance", 1e-9)))


def _fault(raw: Mapping[str, Any]) -> Fault:
    return Fault(str(raw["stop"]), str(raw["alert"]), str(raw.get("recovery", "resolved")),
                 tuple(_probe(p) for p in raw.get("while_down") or ()))
