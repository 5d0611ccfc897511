"""The staging stage's check ids, named after the configuration (docs/staging.md).

Declared from the configuration alone (the compose file is not read), so the registry that the
command line builds from a run's configuration knows every id `validate` must require.
"""

from __future__ import annotations

from finsig_runner.core.config import Fault, StagingSettings

UP = "staging.up"
TARGETS = "staging.targets"
RULES = "staging.rules"
SCRAPE = "staging.scrape"
TEARDOWN = "staging.teardown"


def ready(service: str) -> str:
    return f"staging.ready.{service}"


def smoke(name: str) -> str:
    return f"staging.smoke.{name}"


def alert(name: str) -> str:
    return f"staging.alert.{name}"


def recovery(fault: Fault) -> str:
    """`staging.resolved.<alert>` or `staging.recovered.<alert>`, as the fault asks."""
    return f"staging.{fault.recovery}.{fault.alert}"


def declared(settings: StagingSettings, drill: bool = True) -> tuple[str, ...]:
    """Every id the stage reports for these settings, in the order it reports them."""
    ids = [UP, *(ready(p.service) for p in settings.ready), TARGETS, RULES,
           *(smoke(r.name) for r in settings.smoke)]
    if settings.scrape is not None:
        ids.append(SCRAPE)
    if drill:
        for fault in settings.faults:
            ids += [alert(fault.alert), recovery(fault)]
    return (*ids, TEARDOWN)
