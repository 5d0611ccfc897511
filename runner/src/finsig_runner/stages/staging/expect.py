"""Does a JSON answer hold what a smoke request expects? (docs/staging.md, Expectations)

An object must have every key the expectation names (others are ignored), with matching values;
an array must have the same length and matching items; a number must be a number within the
relative tolerance; anything else must be equal. The first difference is named by its path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Match:
    problem: str  # "" when the answer holds the expectation
    compared: int  # leaf values compared

    @property
    def ok(self) -> bool:
        return not self.problem


def match(got: Any, want: Any, tolerance: float) -> Match:
    counter = [0]
    problem = _diff(got, want, tolerance, "$", counter)
    return Match(problem or "", counter[0])


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _diff(got: Any, want: Any, tolerance: float, where: str, counter: list[int]) -> str | None:
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{where}: got {_short(got)}, want an object"
        for key, value in want.items():
            if key not in got:
                return f"{where}.{key}: missing"
            problem = _diff(got[key], value, tolerance, f"{where}.{key}", counter)
            if problem:
                return problem
        return None
    if isinstance(want, list):
        if not isinstance(got, list):
            return f"{where}: got {_short(got)}, want an array"
        if len(got) != len(want):
            return f"{where}: {len(got)} items, want {len(want)}"
        for index, (item, value) in enumerate(zip(got, want)):
            problem = _diff(item, value, tolerance, f"{where}[{index}]", counter)
            if problem:
                return problem
        return None
    counter[0] += 1
    if _number(want):
        if _number(got) and math.isclose(float(got), float(want), rel_tol=tolerance):
            return None
    elif got == want and type(got) is type(want):
        return None
    return f"{where}: got {_short(got)}, want {_short(want)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
