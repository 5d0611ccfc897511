"""The runner image ID in the document: given, asked of the engine inside a container, or null."""

from __future__ import annotations

from typing import Any

import pytest

from finsig_runner.evidence.provenance import HOST_BUILDER, builder_id
from finsig_runner.stages.validate.runner_image import image_id

pytestmark = pytest.mark.timeout(30)
IMAGE = "sha256:" + "5" * 64


class _Containers:
    def get(self, cid: str) -> Any:
        if cid != "mine":
            raise LookupError(cid)
        return type("C", (), {"attrs": {"Image": IMAGE}})()


class _Client:
    containers = _Containers()


def test_on_a_host_there_is_no_image() -> None:
    assert image_id({}) is None
    assert builder_id(None) == HOST_BUILDER


def test_the_variable_wins() -> None:
    assert image_id({"FINSIG_RUNNER_IMAGE_ID": IMAGE}) == IMAGE


def test_inside_a_container_the_engine_names_the_image() -> None:
    env = {"FINSIG_RUNNER_NETWORK": "finsig-run-x"}
    assert image_id(env, _Client, lambda: ["other", "mine"]) == IMAGE
    assert builder_id(IMAGE) == f"urn:finsig:runner-image:{IMAGE}"


def test_no_engine_gives_null_not_a_guess() -> None:
    def broken() -> Any:
        raise OSError("no socket")

    assert image_id({"FINSIG_RUNNER_NETWORK": "n"}, broken, lambda: ["mine"]) is None
