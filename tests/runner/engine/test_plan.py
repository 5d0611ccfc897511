"""Plans: selection, prerequisites, always-run stages, the registry's checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from finsig_runner.cli.commands.run import describe
from finsig_runner.core.errors import UnknownStageError, UsageError
from finsig_runner.engine.plan import build_plan, parse_names
from finsig_runner.stages import registry as real_registry

from tests.support.fake_stages import FakeStage, registry


def _graph() -> dict[str, FakeStage]:
    stages = [
        FakeStage("tests"), FakeStage("lint"), FakeStage("build"), FakeStage("monitoring"),
        FakeStage("image", requires=("build",)),
        FakeStage("staging", requires=("image", "monitoring")),
        FakeStage("validate", requires=("tests", "lint", "staging"), always=True),
    ]
    return {s.name: s for s in stages}


def test_full_plan_is_topological_in_registry_order() -> None:
    plan = build_plan(registry(*_graph().values()))
    assert plan.stages == ("tests", "lint", "build", "monitoring", "image", "staging", "validate")
    assert not plan.partial and plan.mode == "full"


def test_stages_adds_prerequisites_and_always_stages() -> None:
    reg = registry(*_graph().values())
    plan = build_plan(reg, ["staging"])
    # validate joins, but not its own prerequisites (tests, lint): `--stages` stays partial
    assert plan.stages == ("build", "monitoring", "image", "staging", "validate")
    assert plan.partial and plan.mode == "stages"
    plan = build_plan(reg, ["lint"])
    assert plan.stages == ("lint", "validate") and plan.partial
    plan = build_plan(reg, ["validate"])  # named: its prerequisites come with it
    assert set(plan.stages) == set(reg) and not plan.partial
    plan = build_plan(registry(*[s for n, s in _graph().items() if n != "validate"]), ["image"])
    assert plan.stages == ("build", "image") and plan.partial


def test_dry_run_plan_names_only_the_prerequisites_an_always_stage_waits_for() -> None:
    reg = registry(*_graph().values())
    lines = describe(build_plan(reg, ["lint"]), reg)
    assert lines == ["plan (stages, partial):", "  lint", "  validate after lint [always]"]
    lines = describe(build_plan(reg, ["image"]), reg)
    assert "  image after build" in lines


def test_only_takes_the_named_and_validate_and_lists_external_prerequisites() -> None:
    plan = build_plan(registry(*_graph().values()), only=["staging"], from_dir=Path("/x"))
    assert plan.stages == ("staging", "validate")  # the always-run stage joins every plan
    assert plan.external == ("monitoring", "image")
    assert plan.partial and plan.mode == "only"


def test_parse_names() -> None:
    assert parse_names("tests, lint,,typing") == ["tests", "lint", "typing"]
    assert parse_names(None) == []
    for empty in ("", " ", ",", " , "):
        with pytest.raises(UsageError, match="empty stage selection"):
            parse_names(empty)


def test_registry_refuses_unknown_prerequisites_and_cycles() -> None:
    with pytest.raises(UnknownStageError, match="requires 'build'"):
        registry(FakeStage("image", requires=("build",)))
    with pytest.raises(UnknownStageError, match="cycle"):
        registry(FakeStage("a", requires=("b",)), FakeStage("b", requires=("a",)))


def test_real_registry_is_in_pipeline_order() -> None:
    assert list(real_registry.STAGES) == ["tests", "lint", "typing", "security", "build",
                                          "image", "monitoring", "staging", "validate"]
    real_registry.check(real_registry.STAGES)
