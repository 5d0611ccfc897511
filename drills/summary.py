"""The drills' raw results read back and counted: what docs/reliability.md and the exit status of
`make drills` say, computed from drills/results/ and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drills.faults import CATALOGUE
from drills.store import RESULTS, Store

SOAK_RUNS = 50  # drills/soak.py RUNS, drills/interrupts.py RUNS (the numbers)
INTERRUPT_RUNS = 20
Items = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Summary:
    faults: Items
    soak: Items
    interrupts: Items
    durability: dict[str, Any] | None
    fuzz: dict[str, Any] | None

    @classmethod
    def load(cls, root: Path = RESULTS) -> Summary:
        return cls(
            faults=Store("faults", root).items(),
            soak=Store("soak", root).items(),
            interrupts=Store("interrupts", root).items(),
            durability=Store("durability", root).items().get("durability"),
            fuzz=Store("fuzz", root).items().get("fuzz"),
        )

    # --- faults ---------------------------------------------------------------------------------

    def fault_results(self) -> list[dict[str, Any]]:
        """The results of the catalogue's faults that ran (the control left out)."""
        return [r for r in self.faults.values() if not r["fault"].get("control")]

    def catalogue_size(self) -> int:
        return sum(1 for f in CATALOGUE if not f.control)

    def caught(self) -> int:
        return sum(1 for r in self.fault_results() if r["caught"])

    def control_passed(self) -> bool | None:
        control = [r for r in self.faults.values() if r["fault"].get("control")]
        return None if not control else all(r["caught"] for r in control)

    # --- leftovers ------------------------------------------------------------------------------

    def leftovers(self) -> int:
        items = [*self.faults.values(), *self.soak.values(), *self.interrupts.values()]
        count = sum(len(item.get("leftovers", [])) for item in items)
        if self.durability is not None:
            count += sum(1 for f in self.durability.get("failures", []) if "left behind" in f)
        return count

    # --- the other parts ------------------------------------------------------------------------

    def soak_passed(self) -> int:
        return sum(1 for r in self.soak.values() if r["passed"])

    def interrupts_clean(self) -> int:
        return sum(1 for r in self.interrupts.values() if r["clean"])

    def writes_lost(self) -> int | None:
        return None if self.durability is None else int(self.durability["writes"]["lost"])

    def server_errors(self) -> int | None:
        return None if self.fuzz is None else int(self.fuzz["server"]["server_errors"])

    # --- the whole ------------------------------------------------------------------------------

    def missing(self) -> list[str]:
        """What a complete set would have that this one has not: the doc is partial while any."""
        gaps = []
        names = {f.name for f in CATALOGUE}
        if len(names & set(self.faults)) < len(names):
            gaps.append(f"faults: {len(names & set(self.faults))} of {len(names)} run "
                        "(the control included)")
        for part, items, wanted in (("soak", self.soak, SOAK_RUNS),
                                    ("interrupts", self.interrupts, INTERRUPT_RUNS)):
            if len(items) < wanted:
                gaps.append(f"{part}: {len(items)} of {wanted} runs")
        if self.durability is None:
            gaps.append("durability: not run")
        if self.fuzz is None:
            gaps.append("fuzz: not run")
        return gaps

    def compass(self) -> str:
        faults = self.fault_results()
        parts = [
            f"faults caught {self.caught()}/{len(faults)}"
            + (f" (of {self.catalogue_size()} in the catalogue)"
               if len(faults) < self.catalogue_size() else ""),
            f"{self.leftovers()} leftovers",
            f"{self.soak_passed()}/{len(self.soak)} soak runs" if self.soak else "soak not run",
            f"{self.interrupts_clean()}/{len(self.interrupts)} interrupts clean"
            if self.interrupts else "interrupts not run",
            "durability not run" if self.writes_lost() is None
            else f"{self.writes_lost()} acknowledged writes lost",
            "fuzz not run" if self.server_errors() is None
            else f"{self.server_errors()} server errors under fuzzing",
        ]
        return ", ".join(parts)

    def all_as_expected(self) -> bool:
        """Every item that ran did what it should (a partial set can be all as expected)."""
        return (all(r["caught"] for r in self.faults.values())
                and all(r["passed"] for r in self.soak.values())
                and all(r["clean"] for r in self.interrupts.values())
                and (self.durability is None or bool(self.durability.get("passed")))
                and (self.fuzz is None or bool(self.fuzz.get("passed"))))

    def commits(self) -> dict[str, list[str]]:
        """Each commit the results were taken at, with the parts taken there."""
        found: dict[str, list[str]] = {}
        for part, items in (("faults", self.faults), ("soak", self.soak),
                            ("interrupts", self.interrupts),
                            ("durability", {"d": self.durability} if self.durability else {}),
                            ("fuzz", {"f": self.fuzz} if self.fuzz else {})):
            for item in items.values():
                info = item.get("machine") or {}
                commit = str(info.get("commit", "unknown")) + (" (dirty)" if info.get("dirty")
                                                               else "")
                if part not in found.setdefault(commit, []):
                    found[commit].append(part)
        return found

    def _all(self) -> list[dict[str, Any]]:
        return [*self.faults.values(), *self.soak.values(), *self.interrupts.values(),
                *([self.durability] if self.durability else []),
                *([self.fuzz] if self.fuzz else [])]

    def images(self) -> dict[str, dict[str, int]]:
        """Per image tag, each ID (and the revision it was built from) the items ran with, and
        how many items ran with it."""
        found: dict[str, dict[str, int]] = {}
        for item in self._all():
            for ref, info in ((item.get("machine") or {}).get("images") or {}).items():
                if not isinstance(info, dict):  # an older record: the ID alone
                    info = {"id": info, "revision": None}
                key = f"{str(info.get('id'))[:19]} (revision {info.get('revision') or 'unknown'})"
                found.setdefault(ref, {})
                found[ref][key] = found[ref].get(key, 0) + 1
        return found

    def machines(self) -> list[dict[str, Any]]:
        """The distinct machines (cores, memory, kernel, Docker) the results were taken on."""
        keys = ("host", "cpus", "kernel", "docker")
        seen: dict[tuple[Any, ...], dict[str, Any]] = {}
        for item in self._all():
            info = item.get("machine") or {}
            known = seen.setdefault(tuple(info.get(k) for k in keys),
                                    {**{k: info.get(k) for k in keys}, "memory_gib": None})
            known["memory_gib"] = known["memory_gib"] or info.get("memory_gib")
        return list(seen.values())
