"""The Alertmanager config passes `amtool check-config` in the project's alertmanager image."""

from __future__ import annotations

import pytest

from tests.monitoring.conftest import WORKDIR, Tool

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


def test_amtool_check_config(amtool: Tool) -> None:
    outcome = amtool("check-config", f"{WORKDIR}/alertmanager.yml")
    assert outcome.ok, outcome.output
    assert "SUCCESS" in outcome.output


def test_a_route_to_an_undefined_receiver_fails(amtool: Tool) -> None:
    path = amtool.put(
        "broken/alertmanager.yml",
        'route:\n  receiver: "pager"\nreceivers:\n  - name: "null"\n',
    )
    outcome = amtool("check-config", path)
    assert not outcome.ok, outcome.output
    assert 'undefined receiver "pager"' in outcome.output
