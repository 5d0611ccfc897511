"""The runner's configuration: one frozen dataclass, layered CLI > env > pyproject > defaults.

Loading and schema validation live in finsig_runner.core.config_loader; this module only declares
the
keys and their defaults, so that every stage reads typed fields and never a dict.
(Shared file: add a key with a targeted edit, plus its entry in the JSON schema and docs/runner.md.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


# --- `[tool.finsig-runner.staging]`: the project's facts the staging stage proves -----------------


@dataclass(frozen=True)
class Probe:
    """An HTTP GET that must answer `status`; without port and path: the service's healthcheck."""

    service: str
    port: int | None = None
    path: str = ""
    status: int = 200

    @property
    def healthcheck_only(self) -> bool:
        return self.port is None


@dataclass(frozen=True)
class Scrape:
    """The metric whose samples in Prometheus prove that the stack is scraped.

    `labels`: PromQL label matchers inside the braces; `service`: the smoke requests sent there
    must show in it ("" = every smoke request).
    """

    metric: str
    labels: str = ""
    service: str = ""


@dataclass(frozen=True)
class SmokeRequest:
    """One request of the smoke test, sent in order; `body`/`expect` are JSON values."""

    name: str
    service: str
    port: int
    path: str
    method: str = "GET"
    body_file: str = ""  # a JSON file (relative to the workspace) sent as the body
    body: Any = None  # or an inline JSON body
    status: int = 200
    expect_file: str = ""  # a JSON file the answer must match (docs/staging.md, Expectations)
    expect: Any = None  # or inline
    tolerance: float = 1e-9  # relative, for numbers


@dataclass(frozen=True)
class Fault:
    """The fault drill's step: stop `stop`, see `alert` fire, start it again and see `recovery`."""

    stop: str
    alert: str
    recovery: str = "resolved"  # "resolved" or "recovered"
    while_down: tuple[Probe, ...] = ()


@dataclass(frozen=True)
class StagingSettings:
    ready: tuple[Probe, ...] = ()
    scrape: Scrape | None = None
    smoke: tuple[SmokeRequest, ...] = ()
    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class RunnerConfig:
    # Directory of wheels the project is installed from (relative to the workspace or absolute).
    wheelhouse: str = "wheelhouse"
    # Offline vulnerability database directory (safety's schema 2.0.0 format).
    vulndb: str = "vulndb"
    # Minimum total line coverage, percent.
    coverage_min: float = 80.0
    # Extra arguments given to pytest by the `tests` stage.
    pytest_args: tuple[str, ...] = ()
    # Lock files that pin what ships (scanned by `security`, installed into the project env).
    requirements: tuple[str, ...] = ("requirements/core.txt",)
    # Lock files with the project's test dependencies (installed into the project environment).
    test_requirements: tuple[str, ...] = ("requirements/test.txt",)
    # Source directories scanned by flake8/mypy/bandit (relative to the workspace).
    sources: tuple[str, ...] = ("src",)
    # bandit findings at or above this severity fail `security`: "low", "medium" or "high".
    bandit_fail_severity: str = "medium"
    # Any known-vulnerable locked dependency fails `security`.
    fail_on_vulnerable: bool = True
    # Maximum accepted age of the vulnerability database in days, and what an older one does.
    vulndb_max_age_days: int = 365
    vulndb_age_policy: str = "warn"  # "warn" or "fail"
    # Seconds any single tool may run before the stage is ERROR.
    tool_timeout: int = 1800
    # Environment variable names whose values must never be written to any report or log.
    secret_env: tuple[str, ...] = field(default_factory=tuple)
    # How many earlier runs' reports/ and artifacts/ to keep under .finsig-runner/previous/.
    keep_previous: int = 1
    # `image`: the app's Dockerfile and the script that prepares its build context (--prepare-only).
    app_dockerfile: str = "Dockerfile.app"
    app_image_context_script: str = "scripts/build-app-image.sh"
    # `image`: a --no-cache rebuild that gives another image ID fails the stage (else information).
    image_reproducible_required: bool = False
    # `monitoring`: the directory with prometheus.yml, alert_rules.yml and tests/*.yml.
    monitoring_dir: str = "monitoring"
    # `staging`: the compose file it brings up, and its bounded waits in seconds.
    staging_compose: str = "docker-compose.staging.yml"
    staging_start_timeout: int = 120  # each service running (and healthy, with a healthcheck)
    staging_check_timeout: int = 60  # targets up, rules evaluated, counter scraped, recoveries
    staging_alert_timeout: int = 90  # an alert firing (or resolved) after a fault
    # `staging`: run the fault drill (stop the app, then Postgres, and watch the alerts).
    staging_fault_drill: bool = True
    # `staging`: the project's services, probes, smoke requests and faults (docs/staging.md).
    staging: StagingSettings = field(default_factory=StagingSettings)
    # `staging`: an app image to use instead of the `image` stage's tar ("" = that tar, else the
    # compose file's default).
    staging_app_image: str = ""
    # `validate` (docs/evidence.md): the check ids (fnmatch patterns) the verdict requires, the ones
    # only reported, and those whose SKIPPED still counts as passing (`staging.*`: a whole stage).
    required_checks: tuple[str, ...] = ("*",)
    optional_checks: tuple[str, ...] = ("image.reproducible",)
    allow_skipped: tuple[str, ...] = ()
    # Who seals the evidence (docs/threat-model.md): the signer's fingerprint (64 hex) or its
    # public key file ("" = nobody: the evidence stays unsigned). The run never holds the key;
    # `finsig-runner seal DIR --key FILE` refuses a key that does not match.
    expected_signer: str = ""
    # Environment variable names passed to the tools beside the documented allow-list.
    tool_env: tuple[str, ...] = field(default_factory=tuple)
    # `validate`: write the CycloneDX SBOMs (artifacts/sbom-app.cdx.json, sbom-runner.cdx.json).
    sbom: bool = True
