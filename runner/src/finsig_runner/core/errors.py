"""One error tree for the runner; every class carries the process exit code it ends the run with.

Exit codes (documented in docs/runner.md, used everywhere):

    0   every stage that ran PASSED (or was CACHED / SKIPPED with a reason)
    1   findings: a stage FAILED, or a verification (verify-log) found a broken chain
    2   configuration or usage error (unknown key, wrong type, unknown stage or flag)
    3   a tool broke (a stage ERROR) or the runner itself crashed
    130 interrupted (SIGINT / SIGTERM)
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FINDINGS = 1
    CONFIG = 2
    TOOL_ERROR = 3
    INTERRUPTED = 130


class FinsigRunnerError(Exception):
    """Base of every error the runner raises on purpose. `exit_code` is what main() exits with."""

    exit_code: ExitCode = ExitCode.TOOL_ERROR


# --- configuration and usage: exit 2 --------------------------------------------------


class ConfigError(FinsigRunnerError):
    """The configuration is invalid. `key` names the offending key when there is one."""

    exit_code = ExitCode.CONFIG

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class UsageError(FinsigRunnerError):
    """The command line asks for something impossible (unknown stage, conflicting flags)."""

    exit_code = ExitCode.CONFIG


class UnknownStageError(UsageError):
    """A stage name that is not in the registry (or not implemented in this version)."""


class FromDirError(UsageError):
    """`--from DIR` cannot be used: no event log there, or its chain does not verify."""


# --- findings: exit 1 ------------------------------------------------------------


class EvidenceError(FinsigRunnerError):
    """Evidence does not verify (a broken event-log chain, a hash that does not match)."""

    exit_code = ExitCode.FINDINGS


class ChainBrokenError(EvidenceError):
    """The event log's hash chain is broken; `line` is the first line (1-based) that fails."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


# --- tools: exit 3 ------------------------------------------------------------


class ToolError(FinsigRunnerError):
    """A tool the runner needs broke or is missing. Inside a stage this makes the stage ERROR."""

    exit_code = ExitCode.TOOL_ERROR


class ProjectEnvError(ToolError):
    """The project environment could not be made (e.g. a requirement missing from the wheelhouse).

    Raised by finsig_runner.stages.project_env.prepare(); the message must name what is missing.
    """


class MissingRequirementError(ProjectEnvError):
    """A requirement has no wheel in the wheelhouse; `requirement` names it."""

    def __init__(self, message: str, requirement: str = "") -> None:
        super().__init__(message)
        self.requirement = requirement


# --- interruption: exit 130 ------------------------------------------------------------


class Interrupted(FinsigRunnerError):
    """The run was stopped by SIGINT or SIGTERM."""

    exit_code = ExitCode.INTERRUPTED
