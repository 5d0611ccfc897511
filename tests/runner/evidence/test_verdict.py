"""The verdict rules: required checks from configuration, SKIPPED only where allowed."""

from __future__ import annotations

import pytest

from finsig_runner.evidence.verdict import Policy, StageState, judge
from finsig_runner.core.model import Status

pytestmark = pytest.mark.timeout(30)

P, F, S, E = Status.PASSED, Status.FAILED, Status.SKIPPED, Status.ERROR
DECLARED = {
    "tests": ("tests.junit", "tests.coverage"),
    "build": ("build.build",),
    "image": ("image.build", "image.reproducible"),
    "validate": ("validate.schema",),
}


def _stages(**status: Status) -> dict[str, StageState]:
    return {name: StageState(status.get(name, P), "") for name in ("tests", "build", "image")}


def _checks(**overrides: Status) -> dict[str, tuple[Status, str]]:
    checks = {c: (P, "") for ids in DECLARED.values() for c in ids if not c.startswith("val")}
    checks.update({k.replace("__", "."): (v, "why") for k, v in overrides.items()})
    return checks


def test_everything_passed() -> None:
    result = judge(Policy(), DECLARED, _stages(), _checks())
    assert result.passed
    assert "validate.schema" not in result.required  # validate's own checks judge the document
    assert "image.reproducible" not in result.required  # optional by default


def test_a_failed_required_check_fails_the_verdict() -> None:
    result = judge(Policy(), DECLARED, _stages(tests=F), _checks(tests__coverage=F))
    assert [(f.id, f.status) for f in result.failures] == [("tests.coverage", "FAILED")]


def test_optional_check_failing_does_not_fail() -> None:
    assert judge(Policy(), DECLARED, _stages(), _checks(image__reproducible=F)).passed


def test_skipped_counts_only_where_allowed() -> None:
    stages = _stages(image=S)
    checks = {k: v for k, v in _checks().items() if not k.startswith("image")}
    refused = judge(Policy(), DECLARED, stages, checks)
    assert [(f.id, f.status) for f in refused.failures] == [("image.build", "SKIPPED")]
    assert "allow_skipped" in refused.failures[0].reason
    allowed = judge(Policy(allow_skipped=("image.*",)), DECLARED, stages, checks)
    assert allowed.passed


def test_a_stage_that_did_not_run_is_missing() -> None:
    stages = {k: v for k, v in _stages().items() if k != "image"}
    checks = {k: v for k, v in _checks().items() if not k.startswith("image")}
    result = judge(Policy(), DECLARED, stages, checks)
    assert [(f.id, f.status) for f in result.failures] == [("image.build", "MISSING")]
    assert judge(Policy(required=("tests.*", "build.*")), DECLARED, stages, checks).passed


def test_a_passed_stage_that_never_reported_a_required_check_is_missing() -> None:
    checks = {k: v for k, v in _checks().items() if k != "tests.junit"}
    result = judge(Policy(), DECLARED, _stages(), checks)
    assert [(f.id, f.status) for f in result.failures] == [("tests.junit", "MISSING")]


def test_an_erroring_stage_without_checks_fails_each_required_check() -> None:
    checks = {k: v for k, v in _checks().items() if not k.startswith("build")}
    result = judge(Policy(), DECLARED, _stages(build=E), checks)
    assert [(f.id, f.status) for f in result.failures] == [("build.build", "ERROR")]


def test_a_failed_stage_with_passing_checks_still_fails() -> None:
    result = judge(Policy(), DECLARED, _stages(build=F), _checks())
    assert [(f.id, f.status) for f in result.failures] == [("build", "FAILED")]


def test_reported_checks_beyond_the_declared_ones_are_judged() -> None:
    checks = {**_checks(), "tests.extra": (F, "")}
    assert not judge(Policy(), DECLARED, _stages(), checks).passed
