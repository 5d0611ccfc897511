"""What the engine tells whoever watches a run (the console output, tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from finsig_runner.core.model import StageResult

if TYPE_CHECKING:
    from finsig_runner.engine.outcome import RunOutcome
    from finsig_runner.engine.plan import Plan


class Observer(Protocol):
    """Progress callbacks. Called from worker threads: implementations lock."""

    def run_started(self, run_id: str, plan: Plan) -> None: ...

    def stage_started(self, name: str) -> None: ...

    def stage_finished(self, result: StageResult) -> None: ...

    def note(self, text: str) -> None:
        """A step that is not a stage (the project environment)."""

    def run_finished(self, outcome: RunOutcome) -> None: ...


class NoObserver:
    def run_started(self, run_id: str, plan: Plan) -> None:
        pass

    def stage_started(self, name: str) -> None:
        pass

    def stage_finished(self, result: StageResult) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def run_finished(self, outcome: RunOutcome) -> None:
        pass
