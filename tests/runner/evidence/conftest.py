"""A signed evidence set built once per module that needs it (the engine over fake stages)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from finsig_runner.core import signing

from tests.support import evidence_set as es


@dataclass(frozen=True)
class Evidence:
    root: Path
    keys: signing.KeyPairFiles


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    base = tmp_path_factory.mktemp("signed")
    keys = es.make_key(base / "keys")
    root = es.workspace(base / "ws")
    out = es.run(root, es.stages(), es.config(keys.private))
    assert out.status == "PASSED" and out.exit_code == 0, out.results
    return Evidence(root, keys)
