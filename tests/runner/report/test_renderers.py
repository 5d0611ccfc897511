"""Both renderers over evidence with hostile text planted everywhere: everything shows as text,
nothing becomes markup, a link, a script or a request."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from finsig_runner.report import html_page, load, markdown_page
from finsig_runner.report.markup import href, md

from tests.support import report_evidence as ev

pytestmark = pytest.mark.timeout(60)

# Every element the page may contain (the SVG charts' included): no script, img, iframe,
# object, embed, link, form, base, foreignObject, use or image.
ALLOWED = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p",
           "div", "nav", "a", "section", "dl", "dt", "dd", "ul", "li", "table", "thead",
           "tbody", "tr", "th", "td", "span", "strong", "code", "meter", "svg", "defs",
           "marker", "path", "line", "rect", "text"}
GRAPH = {"tests": ("project-env",), "image": ("build",), "staging": ("image",)}


@dataclass
class Page(HTMLParser):
    tags: set[str] = field(default_factory=set)
    attrs: list[tuple[str, str, str]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    _in_style: bool = False

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._in_style = tag == "style"
        self.attrs += [(tag, k, v or "") for k, v in attrs]

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def parse(markup: str) -> Page:
    page = Page()
    page.feed(markup)
    page.close()
    return page


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = ev.write(tmp_path_factory.mktemp("evidence"))
    return html_page.render(load.load_run(root, GRAPH))


@pytest.fixture(scope="module")
def markdown(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = ev.write(tmp_path_factory.mktemp("evidence"))
    return markdown_page.render(load.load_run(root, GRAPH))


def test_the_page_holds_only_known_elements_and_no_handler(html: str) -> None:
    page = parse(html)
    assert page.tags <= ALLOWED, page.tags - ALLOWED
    assert not [a for a in page.attrs if a[1].lower().startswith("on")]
    assert "<script" not in html.lower()
    assert not [a for a in page.attrs if "javascript:" in a[2].lower()]
    assert page.styles == [html_page.STYLE]  # one style block: the page's own


def test_hostile_text_is_shown_as_text(html: str) -> None:
    text = "".join(parse(html).text)
    assert text.count(ev.HOSTILE) >= 10  # test name, message, findings, paths, reasons...
    assert f"test_hostile[{ev.HOSTILE}]" in text
    assert "naïve ✓" in text  # non-ASCII kept as it is


def test_links_stay_inside_the_evidence(html: str) -> None:
    page = parse(html)
    targets = [v for tag, k, v in page.attrs if k in ("href", "src", "xlink:href")]
    assert targets and all(t.startswith(("../", "#")) for t in targets)
    assert not [t for t in targets if ".." in t.split("/")[1:] or ":" in t]
    shown = "".join(page.text)
    for path in ("../../etc/passwd", "/etc/passwd"):
        assert path in shown  # listed, as text, never linked
        assert f'href="{path}' not in html
    assert "../javascript%3Aalert%281%29" in targets  # a file of that name: a relative link


def test_the_csp_allows_nothing_but_the_pages_own_style(html: str) -> None:
    page = parse(html)
    csp = [v for t, k, v in page.attrs if t == "meta" and k == "content" and "default-src" in v]
    assert csp == [html_page.csp()]
    csp_text = csp[0]
    digest = base64.b64encode(hashlib.sha256(html_page.STYLE.encode()).digest()).decode()
    directives = dict(d.strip().split(" ", 1) for d in csp_text.split(";"))
    assert directives == {"default-src": "'none'", "style-src": f"'sha256-{digest}'",
                          "img-src": "'none'", "base-uri": "'none'", "form-action": "'none'"}
    assert html.index("Content-Security-Policy") < html.index("<style>")


def test_the_verdict_and_failing_stage_are_visible(html: str) -> None:
    text = " ".join(parse(html).text)
    assert "Verdict: FAILED" in text and "tests.pass" in text
    assert re.search(r"tests\s+FAILED", text)


def test_markdown_renders_hostile_text_as_text(markdown: str) -> None:
    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    page = parse(rendered)
    assert page.tags <= {"h1", "h2", "h3", "p", "ul", "li", "strong", "table", "thead", "tbody",
                         "tr", "th", "td"}, page.tags  # no a, img, script, html
    text = "".join(page.text)
    assert text.count(ev.HOSTILE) >= 8
    assert f"test_hostile[{ev.HOSTILE}]" in text


def test_markdown_tables_keep_their_columns(markdown: str) -> None:
    table: list[int] = []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            table.append(len(re.findall(r"(?<!\\)\|", line)))
        elif table:
            assert len(set(table)) == 1, (line, table)
            table = []


def test_a_verification_is_shown(tmp_path: Path) -> None:
    from finsig_runner.report.model import SignatureCheck, VerifyLine

    root = ev.write(tmp_path)
    bad = SignatureCheck("ab" * 32, False, (VerifyLine("files", "FAILED", ev.HOSTILE),))
    html = html_page.render(load.load_run(root, check=bad))
    assert "does NOT verify with the key you gave" in "".join(parse(html).text)
    good = SignatureCheck("ab" * 32, True, ())
    text = markdown_page.render(load.load_run(root, check=good))
    assert "the evidence verifies with the key given" in text


@pytest.mark.parametrize("path, link", [
    ("reports/a b.json", "../reports/a%20b.json"),
    ("reports/<script>\"x\" 'y'&.json", "../reports/%3Cscript%3E%22x%22%20%27y%27%26.json"),
    ("artifacts/x.whl", "../artifacts/x.whl"),
    ("reports/../x", None), ("/etc/passwd", None), ("../x", None),
    ("reports//x", None), ("reports\\x", None), ("reports/\x00x", None),
    ("evidence/lint/reports/x", "../evidence/lint/reports/x"),  # a merge's job evidence
    ("javascript:alert(1)/x", "../javascript%3Aalert%281%29/x"),
])
def test_href_only_links_into_the_evidence(path: str, link: str | None) -> None:
    assert href(path) == link


def test_md_escapes_markup_and_flattens_lines() -> None:
    assert md("a|b\n<c> [d](e) *f*") == r"a\|b &lt;c&gt; \[d\]\(e\) \*f\*"
