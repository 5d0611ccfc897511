"""Conversion rules on small hand-made OSV entries: no files, no subprocesses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from finsig_runner.vulndb import osv
from finsig_runner.vulndb.model import Advisory, Alias, Skipped, normalise_name
from finsig_runner.vulndb.ranges import Event, intervals, range_specifiers
from tests.runner.vulndb.conftest import eco, osv_entry

pytestmark = pytest.mark.timeout(30)


def convert(entry: dict[str, object]) -> tuple[list[Advisory], dict[str, int]]:
    skipped = Skipped()
    return osv.convert_entry(entry, skipped), skipped.as_dict()


def only_specs(entry: dict[str, object]) -> list[str]:
    advisories, _ = convert(entry)
    assert len(advisories) == 1
    return list(advisories[0].specs)


def test_introduced_and_fixed_give_a_half_open_range() -> None:
    assert only_specs(osv_entry(ranges=[eco(("introduced", "1.0"), ("fixed", "1.4.2"))])) == [
        ">=1.0,<1.4.2"
    ]


def test_introduced_zero_means_no_lower_bound() -> None:
    assert only_specs(osv_entry(ranges=[eco(("introduced", "0"), ("fixed", "2.3.0"))])) == [
        "<2.3.0"
    ]


def test_last_affected_is_inclusive() -> None:
    until = eco(("introduced", "0"), ("last_affected", "1.11.0"))
    assert only_specs(osv_entry(ranges=[until])) == ["<=1.11.0"]
    assert only_specs(osv_entry(ranges=[eco(("introduced", "3"), ("last_affected", "3.2"))])) == [
        ">=3,<=3.2"
    ]


def test_open_ranges() -> None:
    assert only_specs(osv_entry(ranges=[eco(("introduced", "0"))])) == [">=0"]
    assert only_specs(osv_entry(ranges=[eco(("introduced", "1.5"))])) == [">=1.5"]
    assert SpecifierSet(">=0").contains("0.0.1") and SpecifierSet(">=0").contains("99")


def test_one_range_with_several_intervals_out_of_version_order() -> None:
    # urllib3 PYSEC-2023-192 lists its pairs newest first
    events = [
        ("introduced", "2.0.0"), ("fixed", "2.0.6"), ("introduced", "0"), ("fixed", "1.26.17")
    ]
    assert only_specs(osv_entry(ranges=[eco(*events)])) == [">=2.0.0,<2.0.6", "<1.26.17"]


def test_overlapping_pairs_keep_every_interval() -> None:
    # wagtail PYSEC-2021-114: a version-sorted walk would lose 2.11.6 (inside 2.11 .. 2.11.7)
    events = [("introduced", "2.11"), ("fixed", "2.11.7"), ("introduced", "0"), ("fixed", "2.11.6")]
    specs = only_specs(osv_entry(ranges=[eco(*events)]))
    assert specs == [">=2.11,<2.11.7", "<2.11.6"]
    assert any(SpecifierSet(spec).contains("2.11.6") for spec in specs)


def test_events_that_do_not_pair_are_walked_in_version_order() -> None:
    events = [Event("fixed", "2.0"), Event("introduced", "1.0"), Event("introduced", "1.5")]
    assert [i.specifier for i in intervals(events)] == [">=1.0,<2.0"]


def test_several_ranges_and_duplicates() -> None:
    ranges = [
        eco(("introduced", "1.0"), ("fixed", "1.1")),
        eco(("introduced", "2.0"), ("fixed", "2.2")),
        eco(("introduced", "1.0"), ("fixed", "1.1")),
    ]
    assert only_specs(osv_entry(ranges=ranges)) == [">=1.0,<1.1", ">=2.0,<2.2"]


def test_versions_outside_every_range_become_exact_pins() -> None:
    entry = osv_entry(
        ranges=[eco(("introduced", "1.0"), ("fixed", "2.0"))],
        versions=["1.0", "1.5", "1.9", "3.1", "3.2"],
    )
    advisories, _ = convert(entry)
    assert list(advisories[0].specs) == [">=1.0,<2.0", "==3.1", "==3.2"]
    assert advisories[0].affected_versions == ("1.0", "1.5", "1.9", "3.1", "3.2")


def test_a_prerelease_inside_a_range_keeps_its_own_pin() -> None:
    # safety tests a pinned version with SpecifierSet.contains, which leaves pre-releases out
    entry = osv_entry(
        ranges=[eco(("introduced", "0"), ("fixed", "2.0"))], versions=["1.0", "2.0rc1"]
    )
    specs = only_specs(entry)
    assert specs == ["<2.0", "==2.0rc1"]
    assert SpecifierSet("==2.0rc1").contains("2.0rc1")


def test_versions_only() -> None:
    assert only_specs(osv_entry(versions=["0.5", "0.6.1"])) == ["==0.5", "==0.6.1"]


def test_git_ranges_are_skipped_and_counted() -> None:
    git = {"type": "GIT", "repo": "https://example.invalid/r", "events": [{"introduced": "abc"}]}
    advisories, skipped = convert(osv_entry(ranges=[git, eco(("introduced", "0"), ("fixed", "1"))]))
    assert list(advisories[0].specs) == ["<1"]
    assert skipped == {"git_ranges": 1}


def test_an_entry_with_only_git_ranges_is_left_out() -> None:
    git = {"type": "GIT", "repo": "https://example.invalid/r", "events": [{"fixed": "abc"}]}
    advisories, skipped = convert(osv_entry(ranges=[git]))
    assert advisories == []
    assert skipped == {"git_ranges": 1, "no_affected_versions": 1}


def test_withdrawn_entries_are_skipped_and_counted() -> None:
    entry = osv_entry(ranges=[eco(("introduced", "0"))], withdrawn="2023-11-08T00:54:24Z")
    assert convert(entry) == ([], {"withdrawn": 1})


def test_unparseable_versions_drop_the_range_or_the_pin() -> None:
    entry = osv_entry(
        ranges=[eco(("introduced", "0"), ("fixed", "2019-09-12x"))],
        versions=["0.1-bulbasaur", "1.0"],
    )
    advisories, skipped = convert(entry)
    assert list(advisories[0].specs) == ["==1.0"]
    assert skipped == {"invalid_ranges": 1, "invalid_versions": 1}


def test_limit_events_and_other_ecosystems_are_counted() -> None:
    skipped = Skipped()
    ranged = range_specifiers([{"introduced": "1"}, {"limit": "3"}, {"fixed": "2"}], skipped)
    assert ranged == [">=1,<2"]
    npm = osv_entry()
    npm["affected"][0]["package"]["ecosystem"] = "npm"
    assert osv.convert_entry(npm, skipped) == []
    assert skipped.as_dict() == {"limit_events": 1, "other_ecosystems": 1}


def test_ids_aliases_and_names() -> None:
    entry = osv_entry(
        "PYSEC-2014-13",
        package="Flask_Caching.Extra",
        ranges=[eco(("introduced", "0"), ("fixed", "2.3.0"))],
        aliases=["GHSA-cfj3-7x9c-4p3h", "CVE-2014-1829", "SNYK-PYTHON-X-1", "PYSEC-2014-13"],
        summary="Short summary",
    )
    (advisory,), _ = convert(entry)
    assert advisory.id == "PYSEC-2014-13"
    assert advisory.package == "flask-caching-extra"
    assert advisory.aliases == (
        Alias("cve", "CVE-2014-1829"),
        Alias("ghsa", "GHSA-cfj3-7x9c-4p3h"),
        Alias("snyk", "SNYK-PYTHON-X-1"),
    )
    assert advisory.advisory == "Short summary\n\nPYSEC-2014-13 details"
    assert advisory.fixed_versions == ("2.3.0",)


def test_yaml_scalars_stay_strings() -> None:
    text = b"id: PYSEC-1\naffected:\n- package: {name: x, ecosystem: PyPI}\n  ranges:\n" \
        b"  - type: ECOSYSTEM\n    events:\n    - introduced: 0\n    - fixed: 1.10\n"
    entry = osv.parse_entry("x.yaml", text)
    (advisory,), _ = convert(dict(entry))
    assert advisory.specs == ("<1.10",)  # not "<1.1"


@pytest.mark.parametrize("raw", ["Foo_Bar", "foo.bar", "FOO--bar", "foo-bar"])
def test_normalise_name(raw: str) -> None:
    assert normalise_name(raw) == "foo-bar"


versions = st.tuples(st.integers(0, 30), st.integers(0, 30)).map(lambda t: f"{t[0]}.{t[1]}")


@given(lower=versions, upper=versions, probe=versions)
def test_a_pair_matches_exactly_its_half_open_interval(lower: str, upper: str, probe: str) -> None:
    skipped = Skipped()
    specs = range_specifiers([{"introduced": lower}, {"fixed": upper}], skipped)
    if Version(lower) < Version(upper):
        expected = Version(lower) <= Version(probe) < Version(upper)
        assert SpecifierSet(specs[0]).contains(probe) is expected
