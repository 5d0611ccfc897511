"""What differs between two builds of one image: config fields and layer digests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Top-level inspect fields that are not part of the image config (or are the ID itself).
_IGNORED = frozenset({"Id", "RepoTags", "RepoDigests", "Metadata", "GraphDriver", "Size",
                      "VirtualSize"})


@dataclass(frozen=True)
class ImageDiff:
    same: bool
    config_fields: tuple[str, ...]  # dotted names of the config fields that differ
    layers: tuple[tuple[int, str, str], ...]  # (index, first, second) of each differing layer
    layer_count: tuple[int, int]

    def describe(self) -> str:
        if self.same:
            return "two builds gave the same image ID"
        parts = []
        if self.config_fields:
            parts.append(f"config fields differ: {', '.join(self.config_fields)}")
        if self.layers:
            which = ", ".join(str(i) for i, _, _ in self.layers)
            parts.append(f"layers differ: {which} of {self.layer_count[0]}")
        if self.layer_count[0] != self.layer_count[1]:
            parts.append(f"layer counts {self.layer_count[0]} vs {self.layer_count[1]}")
        return "the --no-cache rebuild gave another image ID; " + "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "same": self.same,
            "config_fields": list(self.config_fields),
            "layers": [{"index": i, "first": a, "second": b} for i, a, b in self.layers],
            "layer_count": list(self.layer_count),
        }


def compare(first: Mapping[str, Any], second: Mapping[str, Any]) -> ImageDiff:
    """Compare two `docker image inspect` documents."""
    fields = tuple(sorted(_differing(
        {k: v for k, v in first.items() if k not in _IGNORED and k != "RootFS"},
        {k: v for k, v in second.items() if k not in _IGNORED and k != "RootFS"}, "")))
    layers_a = list((first.get("RootFS") or {}).get("Layers") or [])
    layers_b = list((second.get("RootFS") or {}).get("Layers") or [])
    layers = tuple(
        (i, a, b) for i, (a, b) in enumerate(zip(layers_a, layers_b)) if a != b
    )
    same = first.get("Id") == second.get("Id")
    return ImageDiff(same, fields, layers, (len(layers_a), len(layers_b)))


def _differing(a: Any, b: Any, prefix: str) -> list[str]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        out: list[str] = []
        for key in sorted(set(a) | set(b)):
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(_differing(a.get(key), b.get(key), name))
        return out
    return [] if a == b else [prefix or "(root)"]
