"""OSV ECOSYSTEM ranges and explicit version lists -> PEP 440 specifier strings.

Rules (docs/vulndb.md):
- `introduced: a` opens an interval, the next `fixed: b` closes it as `>=a,<b`, `last_affected: c`
  as `>=a,<=c`; an interval left open is `>=a`. Events are paired in the order given when they
  pair up (the PyPA data lists pairs, not always in version order, sometimes overlapping); else
  they are walked in version order (see `intervals`).
- `introduced: "0"` means "from the first release": no lower bound (`<b`; `>=0` when nothing closes
  it, so that every version matches).
- explicit `versions` become `==v`, but only those no range already matches the way safety tests a
  pinned version (SpecifierSet.contains with its default pre-release handling) — so a pre-release
  inside a range still gets its own `==v`, and nothing is listed twice.
- a range with a version PEP 440 cannot parse is dropped whole (its bounds would be guesses), an
  unparseable explicit version is dropped; both are counted. `limit` events (meant for GIT ranges)
  are ignored and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from finsig_runner.vulndb.model import Skipped

_ZERO = "0"
_BOUND_KINDS = ("introduced", "fixed", "last_affected")


@dataclass(frozen=True)
class Event:
    kind: str  # introduced | fixed | last_affected
    version: str


@dataclass(frozen=True)
class Interval:
    lower: str | None  # inclusive; None: from the first release
    upper: str | None  # None: open above
    upper_inclusive: bool = False

    @property
    def specifier(self) -> str:
        parts: list[str] = []
        if self.lower is not None:
            parts.append(f">={self.lower}")
        if self.upper is not None:
            parts.append(f"{'<=' if self.upper_inclusive else '<'}{self.upper}")
        return ",".join(parts) if parts else f">={_ZERO}"


def parse_version(value: str) -> Version | None:
    try:
        return Version(value)
    except InvalidVersion:
        return None


def valid_specifier(spec: str) -> bool:
    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        return False
    return True


def read_events(raw: Iterable[Mapping[str, object]], skipped: Skipped) -> list[Event] | None:
    """OSV event objects -> Events; None when a version cannot be parsed (the range is dropped)."""
    events: list[Event] = []
    for item in raw:
        for kind, value in item.items():
            if kind not in _BOUND_KINDS:
                skipped.add(f"{kind}_events")
                continue
            version = str(value).strip()
            if not (kind == "introduced" and version == _ZERO) and parse_version(version) is None:
                return None
            events.append(Event(kind, version))
    return events


def _sort_key(event: Event) -> Version:
    if event.kind == "introduced" and event.version == _ZERO:
        return Version(_ZERO)
    parsed = parse_version(event.version)
    assert parsed is not None  # read_events only lets parseable versions through
    return parsed


def _walk(events: Sequence[Event], strict: bool) -> list[Interval] | None:
    out: list[Interval] = []
    lower: str | None = None
    is_open = False
    for event in events:
        if event.kind == "introduced":
            if is_open and strict:
                return None
            if not is_open:  # a second `introduced` inside an open interval widens nothing
                lower = None if event.version == _ZERO else event.version
                is_open = True
        elif is_open:  # fixed / last_affected close the open interval
            out.append(Interval(lower, event.version, event.kind == "last_affected"))
            is_open = False
        elif strict:  # a closing event with nothing open
            return None
    if is_open:
        out.append(Interval(lower, None))
    return out


def intervals(events: Sequence[Event]) -> list[Interval]:
    """Pair events into intervals.

    The PyPA data writes each interval as an `introduced` followed by its closing event, but not
    in version order (`introduced 2.0.0, fixed 2.0.6, introduced 0, fixed 1.26.17`), and pairs
    may overlap; read that way, each pair is exactly one interval. Events that do not pair up in
    the order given are walked in version order instead, as the OSV schema describes.
    """
    paired = _walk(events, strict=True)
    if paired is not None:
        return paired
    ordered = _walk(sorted(events, key=_sort_key), strict=False)
    assert ordered is not None  # a lenient walk always gives an answer
    return ordered


def range_specifiers(raw_events: Iterable[Mapping[str, object]], skipped: Skipped) -> list[str]:
    """One ECOSYSTEM range -> its specifier strings (usually one; several when it re-opens)."""
    events = read_events(raw_events, skipped)
    if events is None:
        skipped.add("invalid_ranges")
        return []
    specs: list[str] = []
    for interval in intervals(events):
        spec = interval.specifier
        if not valid_specifier(spec):  # e.g. a local version (+abc) in a `<` bound
            skipped.add("invalid_ranges")
            continue
        specs.append(spec)
    return specs


def version_specifiers(
    versions: Iterable[object], covered_by: Sequence[str], skipped: Skipped
) -> tuple[list[str], list[str]]:
    """Explicit versions -> (`==v` specifiers for those no range matches, every valid version)."""
    sets = [SpecifierSet(spec) for spec in covered_by]
    specs: list[str] = []
    valid: list[str] = []
    for value in versions:
        version = str(value).strip()
        parsed = parse_version(version)
        if parsed is None or not valid_specifier(f"=={version}"):
            skipped.add("invalid_versions")
            continue
        valid.append(version)
        if not any(spec_set.contains(parsed) for spec_set in sets):
            specs.append(f"=={version}")
    return specs, valid


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Drop repeats, keep first-seen order."""
    return tuple(dict.fromkeys(items))
