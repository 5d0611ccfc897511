"""The vulnerability database's errors, a branch of the runner's one error tree
(finsig_runner.core.errors).

Exit codes of `python -m finsig_runner.vulndb` (docs/vulndb.md): 1 the source or the database is
unusable, 2 usage.
"""

from __future__ import annotations

from finsig_runner.core.errors import ExitCode, FinsigRunnerError, UsageError


class VulnDbError(FinsigRunnerError):
    """The source cannot be read or converted, or a database cannot be read back (exit 1). In the
    security stage it makes security.vulndb ERROR."""

    exit_code = ExitCode.FINDINGS


class VulnDbUsageError(VulnDbError, UsageError):
    """The command line asks for something impossible (exit 2, like every usage error)."""

    exit_code = ExitCode.CONFIG
