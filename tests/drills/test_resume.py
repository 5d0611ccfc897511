"""Resuming a part: each item's file is written whole or not at all, a re-run skips the items it
has, --fresh forgets them, and a resumed part draws the same random moments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docker
import pytest

from drills import fault_run
from drills.faults import CATALOGUE, Fault
from drills.interrupts import draw
from drills.store import Store, part_seed, write_json

pytestmark = pytest.mark.timeout(30)


def test_an_item_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    store = Store("soak", tmp_path)
    store.write("run-001", {"passed": True})
    with pytest.raises(TypeError):
        store.write("run-002", {"passed": object()})
    assert sorted(p.name for p in store.directory.iterdir()) == ["run-001.json"]
    with pytest.raises(TypeError):
        write_json(store.path("run-001"), {"passed": object()})
    assert store.read("run-001") == {"part": "soak", "item": "run-001", "passed": True}


def test_items_are_the_finished_ones_only(tmp_path: Path) -> None:
    store = Store("interrupts", tmp_path)
    assert store.items() == {}
    store.write("run-02", {"clean": True})
    store.write("run-01", {"clean": False})
    part_seed(store, 5)
    (store.directory / ".run-03.json.abc.tmp").write_text("{")  # a write cut short
    assert list(store.items()) == ["run-01", "run-02"]
    assert store.done("run-01") and not store.done("run-03")
    with pytest.raises(ValueError):
        store.path("../elsewhere")


def test_the_seed_stays_with_the_part_until_fresh(tmp_path: Path) -> None:
    store = Store("faults", tmp_path)
    first = part_seed(store, None)
    assert part_seed(store, None) == first
    assert part_seed(store, first) == first
    with pytest.raises(SystemExit, match="--fresh"):
        part_seed(store, first + 1)
    store.fresh()
    assert part_seed(store, first + 1) == first + 1


def test_the_draws_depend_on_seed_and_run_only() -> None:
    draws = [draw(17, i) for i in range(1, 21)]
    assert [draw(17, i) for i in reversed(range(1, 21))] == draws[::-1]
    assert {signal for signal, _ in draws} == {"SIGINT", "SIGTERM"}
    assert all(5.0 <= moment <= 100.0 for _, moment in draws)
    assert draws != [draw(18, i) for i in range(1, 21)]


class _Client:
    def close(self) -> None:
        pass


@pytest.fixture
def part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """fault_run.run_part over a scratch store, with run_one recording what it was asked."""
    ran: list[str] = []

    def run_one(fault: Fault, seed: int, client: Any) -> dict[str, Any]:
        if fault.name == "mypy-error" and "interrupt" in ran:
            raise KeyboardInterrupt
        ran.append(fault.name)
        return {"caught": True, "injection_error": None, "judgements": [], "leftovers": [],
                "seconds": 1.0, "seed": seed}

    monkeypatch.setattr(fault_run, "Store", lambda part: Store(part, tmp_path))
    monkeypatch.setattr(docker, "from_env", lambda **kwargs: _Client())
    monkeypatch.setattr(fault_run, "run_one", run_one)
    return ran


def test_a_rerun_skips_what_is_done(part: list[str], tmp_path: Path) -> None:
    names = ["flake8-error", "mypy-error", "bandit-high"]
    Store("faults", tmp_path).write("mypy-error", {"caught": True})
    assert fault_run.run_part(names, fresh=False, seed=3) == 2
    assert part == ["flake8-error", "bandit-high"]
    assert fault_run.run_part(names, fresh=False, seed=None) == 0
    with pytest.raises(SystemExit, match="seed 3"):  # --fresh with names keeps the seed
        fault_run.run_part(names[:1], fresh=True, seed=4)
    assert fault_run.run_part(names[:1], fresh=True, seed=None) == 1
    assert part[2:] == names[:1]
    assert list(Store("faults", tmp_path).items()) == sorted(names)
    assert fault_run.run_part(names, fresh=True, seed=None) == 3
    assert part[3:] == names
    assert fault_run.run_part(None, fresh=True, seed=4) == len(CATALOGUE)
    assert part_seed(Store("faults", tmp_path), None) == 4


def test_an_interrupted_part_resumes_where_it_stopped(part: list[str], tmp_path: Path) -> None:
    names = ["flake8-error", "mypy-error", "bandit-high"]
    part.append("interrupt")
    with pytest.raises(KeyboardInterrupt):
        fault_run.run_part(names, fresh=False, seed=3)
    assert list(Store("faults", tmp_path).items()) == ["flake8-error"]
    part.remove("interrupt")
    assert fault_run.run_part(names, fresh=False, seed=None) == 2
    assert part[-2:] == ["mypy-error", "bandit-high"]


def test_an_unknown_fault_is_refused(part: list[str]) -> None:
    with pytest.raises(SystemExit, match="no such fault: nope"):
        fault_run.run_part(["nope"], fresh=False, seed=1)
