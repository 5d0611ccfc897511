"""The appliance's image set, read from image-set.txt beside this module (its header says why a
data file: the build scripts read the same file through scripts/lib/images.sh)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from finsig_runner.bundle.errors import BundleError

SET_FILE = "image-set.txt"
_BUNDLE = ("required", "optional")


@dataclass(frozen=True)
class ImageSpec:
    name: str
    repository: str
    project: str  # the directory whose pyproject.toml version tags the image
    required: bool  # `bundle export` refuses to go without it
    inputs: tuple[str, ...]  # the script that builds it, then what it is made of

    def ref(self, version: str) -> str:
        return f"{self.repository}:{version}"


@cache
def image_set() -> tuple[ImageSpec, ...]:
    """Every image of the set, in build order."""
    text = resources.files(__package__).joinpath(SET_FILE).read_text(encoding="utf-8")
    return parse(text)


def parse(text: str) -> tuple[ImageSpec, ...]:
    specs: list[ImageSpec] = []
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) < 5 or fields[3] not in _BUNDLE:
            raise BundleError(f"{SET_FILE} line {number}: expected NAME REPOSITORY PROJECT "
                              f"required|optional SCRIPT [PATH...], got {raw.strip()!r}")
        name, repository, project, bundle, *inputs = fields
        specs.append(ImageSpec(name, repository, project, bundle == "required", tuple(inputs)))
    names = [spec.name for spec in specs]
    if not specs or len(set(names)) != len(names):
        raise BundleError(f"{SET_FILE}: no images, or a name given twice: {names}")
    return tuple(specs)
