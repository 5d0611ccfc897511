"""The bundle's errors, each a branch of the runner's one error tree (finsig_runner.core.errors)."""

from __future__ import annotations

from finsig_runner.core.errors import EvidenceError, FinsigRunnerError, ToolError, UsageError


class BundleError(FinsigRunnerError):
    """Base of the bundle's errors."""


class BundleVerificationError(BundleError, EvidenceError):
    """A check failed (exit 1). `check` names it (e.g. "bundle sha256", "members"); `detail`
    says what exactly, e.g. the images.tar member whose hash differs."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(f"{check}: {detail}")
        self.check = check
        self.detail = detail


class MissingImageError(BundleError, UsageError):
    """An image the bundle requires is not in the engine (exit 2)."""


class EngineError(BundleError, ToolError):
    """The Docker engine failed or could not be reached (exit 3)."""
