"""The trilingual docs: the three languages have the same sections and the same code, and every
make target and finsig-runner command they mention exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.ci_files import ROOT, cli_help, make_targets, subcommands

pytestmark = pytest.mark.timeout(120)

DOCS = ROOT / "docs"
SETS = {
    "README_TECHNIQUE": [DOCS / f"README_TECHNIQUE_{lang}.md" for lang in ("EN", "FR", "ES")],
    "BITACORA_CI-CD": [DOCS / f"BITACORA_CI-CD_{lang}.md" for lang in ("EN", "FR", "ES")],
}
ALL = [*SETS["README_TECHNIQUE"], *SETS["BITACORA_CI-CD"], DOCS / "CI_CD_GUIDE.md",
       *(DOCS / f"{name}.md" for name in ("staging", "monitoring", "evidence", "performance"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
INLINE = re.compile(r"`([^`\n]+)`")


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def headings(path: Path) -> list[int]:
    """The level of every heading, in order (outside code blocks)."""
    return [len(m.group(1)) for m in re.finditer(r"^(#+) ", FENCE.sub("", text(path)),
                                                 re.MULTILINE)]


def code_blocks(path: Path) -> list[str]:
    return FENCE.findall(text(path))


def commands(path: Path) -> list[str]:
    """Every command line: lines of code blocks and inline code that start with a command."""
    body = text(path)
    lines = [line for block in FENCE.findall(body) for line in block.splitlines()]
    lines += INLINE.findall(FENCE.sub("", body))
    starts = ("make ", "finsig-runner ", "scripts/", "docker run ")
    return [line.strip() for line in lines if line.strip().startswith(starts)]


@pytest.mark.parametrize("name", SETS)
def test_three_languages_same_sections(name: str) -> None:
    en, fr, es = SETS[name]
    assert len(headings(en)) >= 6
    assert headings(fr) == headings(en), fr.name
    assert headings(es) == headings(en), es.name


@pytest.mark.parametrize("name", SETS)
def test_three_languages_same_code_blocks_in_the_same_order(name: str) -> None:
    en, fr, es = SETS[name]
    assert code_blocks(en)
    assert code_blocks(fr) == code_blocks(en), fr.name
    assert code_blocks(es) == code_blocks(en), es.name


@pytest.mark.parametrize("name", SETS)
def test_three_languages_same_commands(name: str) -> None:
    en, fr, es = SETS[name]
    assert sorted(commands(fr)) == sorted(commands(en)), fr.name
    assert sorted(commands(es)) == sorted(commands(en)), es.name


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_make_target_exists(path: Path) -> None:
    targets = make_targets()
    for line in commands(path):
        if not line.startswith("make "):
            continue
        named = [w for w in line.split()[1:] if re.fullmatch(r"[a-z][a-z0-9-]*", w)]
        assert named, line
        assert set(named) <= targets, f"{path.name}: {line}: no target {set(named) - targets}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_runner_command_exists(path: Path) -> None:
    known = subcommands()
    for line in commands(path):
        if not line.startswith("finsig-runner "):
            continue
        words = line.split()
        sub = words[1]
        if sub in ("--version", "--help"):
            continue
        assert sub in known, f"{path.name}: {line}: no subcommand {sub}"
        helps = cli_help(sub)
        if sub == "bundle":
            assert words[2] in helps, f"{path.name}: {line}"
            helps = cli_help(sub, words[2])
        flags = [w.split("=")[0] for w in words[2:] if w.startswith("--")]
        missing = [f for f in flags if f not in helps]
        assert not missing, f"{path.name}: {line}: finsig-runner {sub} has no {missing}"


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_script_exists(path: Path) -> None:
    for line in commands(path):
        if line.startswith("scripts/") and line.split()[0].endswith(".sh"):
            assert [p for p in ROOT.glob(line.split()[0]) if p.is_file()], f"{path.name}: {line}"
