"""Raw results of the drills: one JSON file per item under drills/results/<part>/, so that an
interrupted part resumes where it stopped.

Each item's file is written atomically (a temporary file in the same directory, flushed, then
renamed over the final name) when the item ends: a file that exists is a finished item, never
half of one. Files whose name starts with `_` hold what the part itself needs to resume the same
way (e.g. the interrupts' seed); they are not items.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
_ITEM = re.compile(r"[a-z0-9][a-z0-9._-]*")


def write_json(path: Path, data: Any) -> None:
    """Write `data` as JSON to `path` atomically: the old content or the new, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Store:
    """The items of one part."""

    def __init__(self, part: str, root: Path = RESULTS) -> None:
        if not _ITEM.fullmatch(part):
            raise ValueError(f"not a part name: {part!r}")
        self.part = part
        self.directory = root / part

    def path(self, item: str) -> Path:
        if not _ITEM.fullmatch(item):
            raise ValueError(f"not an item name: {item!r} (lower case, digits, . _ -)")
        return self.directory / f"{item}.json"

    def done(self, item: str) -> bool:
        return self.path(item).is_file()

    def write(self, item: str, data: Mapping[str, Any]) -> Path:
        path = self.path(item)
        write_json(path, {"part": self.part, "item": item, **data})
        return path

    def read(self, item: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.path(item).read_text(encoding="utf-8"))
        return data

    def items(self) -> dict[str, dict[str, Any]]:
        """Every finished item, by name, in name order."""
        if not self.directory.is_dir():
            return {}
        found: dict[str, dict[str, Any]] = {}
        for path in sorted(self.directory.glob("*.json")):
            if path.name.startswith("_"):
                continue
            found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        return found

    def forget(self, item: str) -> None:
        self.path(item).unlink(missing_ok=True)

    def fresh(self) -> None:
        """Forget every item (and the part's own files): the next run starts over."""
        if self.directory.is_dir():
            shutil.rmtree(self.directory)


def part_seed(store: Store, given: int | None) -> int:
    """The part's seed: the one it started with (a resumed part replays the same draws), else
    `given`, else a new one. A different `given` for a part already under way needs --fresh."""
    path = store.directory / "_seed.json"
    if path.is_file():
        seed = int(json.loads(path.read_text(encoding="utf-8"))["seed"])
        if given is not None and given != seed:
            raise SystemExit(f"drills: {store.part} was started with seed {seed}; to use "
                             f"{given}, start it over with --fresh")
        return seed
    seed = given if given is not None else secrets.randbelow(2**31)
    write_json(path, {"seed": seed})
    return seed


def each_item(store: Store, items: Sequence[str], run: Callable[[str], Mapping[str, Any]],
              say: Callable[[Mapping[str, Any]], str]) -> int:
    """Run every item the store has not got, writing each as it ends; how many ran."""
    ran = 0
    for item in items:
        if store.done(item):
            print(f"{store.part}: {item}: done before, skipped", flush=True)
            continue
        result = run(item)
        store.write(item, result)
        ran += 1
        print(f"{store.part}: {item}: {say(result)}", flush=True)
    return ran
