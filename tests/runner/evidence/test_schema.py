"""schemas/ci_cd_schema.json: one schema in two places, strict everywhere."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from finsig_runner.evidence import schema

from .conftest import Evidence

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.timeout(60)


def _doc(signed: Evidence) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (signed.root / "artifacts" / "artifact-validation.json").read_bytes())
    return loaded


def test_package_copy_is_byte_identical_to_the_top_level_schema() -> None:
    assert (REPO / "schemas" / "ci_cd_schema.json").read_bytes() == schema.schema_bytes()


def test_every_object_in_the_schema_refuses_unknown_keys() -> None:
    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, where
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}/{i}")

    walk(schema.schema(), "#")


def test_the_written_document_is_valid(signed: Evidence) -> None:
    assert schema.errors(_doc(signed)) == []


@pytest.mark.parametrize("where", [
    (), ("runner",), ("source",), ("stages", 0), ("checks", 0), ("files", 0), ("verdict",),
    ("signing",), ("provenance",), ("sbom",), ("event_log",),
])
def test_an_unknown_key_anywhere_is_rejected(signed: Evidence, where: tuple[Any, ...]) -> None:
    doc = copy.deepcopy(_doc(signed))
    node: Any = doc
    for step in where:
        node = node[step]
    node["unexpected"] = True
    assert any("unexpected" in e for e in schema.errors(doc))


@pytest.mark.parametrize("path,value", [
    (("status",), "MAYBE"),
    (("stages", 0, "status"), "GREEN"),
    (("files", 0, "sha256"), "00"),
    (("files", 0, "path"), "../etc/passwd"),
    (("files", 0, "path"), "/etc/passwd"),
    (("event_log", "chain_hash"), "x" * 64),
    (("checks", 0, "id"), "no-dot"),
    (("started",), "yesterday"),
])
def test_wrong_values_are_rejected(signed: Evidence, path: tuple[Any, ...], value: Any) -> None:
    doc = copy.deepcopy(_doc(signed))
    node: Any = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    assert schema.errors(doc)


def test_a_missing_required_field_is_rejected(signed: Evidence) -> None:
    doc = copy.deepcopy(_doc(signed))
    del doc["event_log"]
    assert schema.errors(doc)
