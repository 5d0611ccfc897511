"""The environment every tool gets: an allow-list, never the runner's whole environment.

A tool (the project's tests, its build backend, mypy with its plugins, the image's context
script) sees only the variables below, the names a project adds with the `tool_env`
configuration key, what the stage itself sets for that tool, and the run's markers
(core.processes). CI tokens, the runner's own settings and anything else stay out of reach.
docs/runner.md ("Tool environment") lists the same names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from finsig_runner.core.processes import RUN_VAR, STAGE_VAR

ALLOWED: tuple[str, ...] = (
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TERM", "COLUMNS",
    "NO_COLOR", "FORCE_COLOR", "CI", "GITHUB_ACTIONS", "GITLAB_CI", "SOURCE_DATE_EPOCH",
    "DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "FINSIG_RUNNER_NETWORK",
    "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0",
)
ALLOWED_PREFIXES: tuple[str, ...] = ("LC_", "TESTCONTAINERS_")


def tool_environment(environ: Mapping[str, str], extra_names: Iterable[str], run_id: str,
                     stage: str, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """The allow-listed part of `environ`, the project's extra names, the stage's own values
    (`given`, which win) and the run's markers (which win over everything)."""
    names = set(ALLOWED) | set(extra_names)
    env = {k: v for k, v in environ.items()
           if k in names or k.startswith(ALLOWED_PREFIXES)}
    env.update(given or {})
    env[RUN_VAR] = run_id
    env[STAGE_VAR] = f"{run_id}/{stage}"
    return env
