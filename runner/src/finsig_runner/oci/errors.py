"""The OCI room's errors, each a branch of the runner's one error tree (finsig_runner.core.errors).

Exit codes: 1 an image or layout is invalid (not a docker-archive, a digest that does not match),
2 usage (bad arguments, an output that already exists), 3 the machine failed (disk, I/O).
"""

from __future__ import annotations

from finsig_runner.core.errors import EvidenceError, FinsigRunnerError, ToolError, UsageError


class OciError(FinsigRunnerError):
    """Base of the OCI room's errors."""


class ImageFormatError(OciError, EvidenceError):
    """An archive or layout is not what it claims to be (exit 1); `where` names the file or
    member, e.g. "manifest.json" or "blobs/sha256/ab12…"."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(f"{where}: {detail}")
        self.where = where
        self.detail = detail


class OciUsageError(OciError, UsageError):
    """The request cannot be carried out as asked (exit 2): say what to do instead."""


class OciIOError(OciError, ToolError):
    """Reading or writing failed on this machine (exit 3), e.g. the disk is full."""
