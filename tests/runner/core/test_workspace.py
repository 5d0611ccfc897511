"""Ownership of what a run writes when the runner runs as root over someone else's workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.fake_stages import FakeStage, run

pytestmark = pytest.mark.timeout(60)


def test_outputs_belong_to_the_workspace_owner(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "the suite runs as root (make test): only root can give files away"
    ws = tmp_path / "ws"
    ws.mkdir()
    os.chown(ws, 4321, 4321)
    run(ws, FakeStage("build", outputs={"artifacts/pkg.whl": b"w"}))
    run(ws, FakeStage("build"))  # the second run also sets the first aside
    for root, dirs, files in os.walk(ws):
        for name in (*dirs, *files):
            assert os.lstat(os.path.join(root, name)).st_uid == 4321, name
