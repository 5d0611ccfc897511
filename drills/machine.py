"""Where and on what a drill ran: the commit, the machine, the Docker engine, the images."""

from __future__ import annotations

import os
import platform
import subprocess  # nosec B404
from pathlib import Path
from typing import Any

from finsig_runner.bundle.image_set import image_set
from finsig_runner.bundle.images import image_id
from finsig_runner.core.source import project_version

ROOT = Path(__file__).resolve().parents[1]


def git(*args: str) -> str:
    # git with a fixed argv, for the commit a drill tested
    done = subprocess.run(  # nosec B603 B607
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def image_ref(name: str) -> str:
    """The tag `make images` gives image `name` of the image set (e.g. finsig-runner:0.1.0);
    for the runner, FINSIG_RUNNER_IMAGE instead when set (as scripts/pipeline.sh reads it)."""
    if name == "runner" and os.environ.get("FINSIG_RUNNER_IMAGE"):
        return os.environ["FINSIG_RUNNER_IMAGE"]
    spec = {s.name: s for s in image_set()}[name]
    return spec.ref(project_version(ROOT / spec.project))


def image_info(client: Any, ref: str) -> dict[str, str | None]:
    """The image's ID and the revision it was built from (its OCI label), None when absent."""
    found = image_id(client, ref)
    labels = (client.images.get(ref).labels or {}) if found else {}
    return {"id": found, "revision": labels.get("org.opencontainers.image.revision")}


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError):
        pass
    return None


def machine(client: Any, images: tuple[str, ...] = ("runner", "app")) -> dict[str, Any]:
    """The commit under test and the machine; `client` is a docker SDK client."""
    refs = {name: image_ref(name) for name in images}
    return {
        "commit": git("rev-parse", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--", ".", ":!drills/results", ":!docs")),
        "host": platform.node(),
        "kernel": platform.release(),
        "cpus": len(os.sched_getaffinity(0)),
        "memory_gib": memory_gib(),
        "docker": client.version().get("Version"),
        "python": platform.python_version(),
        "images": {ref: image_info(client, ref) for ref in refs.values()},
    }
