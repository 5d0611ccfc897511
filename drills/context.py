"""What a fault's steps share while it runs: the copy, the run, Docker, and the notes they take."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.pipeline import ImageRun
from drills.project import Copy, InjectionError


@dataclass
class Context:
    item: str
    client: Any  # a docker SDK client
    rng: random.Random
    copy: Copy | None = None
    run: ImageRun | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def workspace(self) -> Path:
        if self.copy is None:
            raise InjectionError(f"{self.item}: no project copy")
        return self.copy.root

    @property
    def image_run(self) -> ImageRun:
        if self.run is None:
            raise InjectionError(f"{self.item}: no pipeline run")
        return self.run
