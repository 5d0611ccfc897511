"""The image set has one list (runner/src/finsig_runner/bundle/image-set.txt): the bundle reads it
in Python, the scripts through scripts/lib/images.sh, and docs/images.md and docs/airgap.md name
exactly that set, with the inputs that scope each image's epoch."""

from __future__ import annotations

import re
import subprocess  # nosec B404 - the shell library under test

import pytest

from finsig_runner.bundle.errors import BundleError
from finsig_runner.bundle.image_set import image_set, parse
from finsig_runner.bundle.images import DEFAULT_PATTERNS, DEFAULT_REQUIRED
from finsig_runner.core.source import project_version
from tests.support.ci_files import ROOT

pytestmark = pytest.mark.timeout(60)

# An image named in prose: finsig/<name>, or finsig-runner with a tag or alone in backticks (not
# the command).
NAMED = re.compile(r"\bfinsig/([a-z][a-z-]*)|\b(finsig-runner)(?=[:`])")
ROW = re.compile(r"^\| `([^`]+)` \| (.+?) \| (.+?) \| .+ \|$", re.MULTILINE)


def images_sh(*argv: str) -> list[str]:
    done = subprocess.run(  # nosec B603 B607 - bash with a fixed script
        ["bash", "-c", ". scripts/lib/source.sh && . scripts/lib/images.sh && \"$@\"", "-",
         *argv], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_the_scripts_read_the_same_set_as_the_bundle() -> None:
    specs = image_set()
    assert images_sh("image_names") == [spec.name for spec in specs]
    assert images_sh("image_refs") == [
        spec.ref(project_version(ROOT / spec.project)) for spec in specs]
    for spec in specs:
        assert tuple(images_sh("image_inputs", spec.name)) == spec.inputs
        assert images_sh("image_script", spec.name) == [spec.inputs[0]]
    assert DEFAULT_PATTERNS == tuple(spec.ref("{version}") for spec in specs)
    assert DEFAULT_REQUIRED == ("finsig/base:{version}", "finsig-runner:{version}")


def test_every_input_exists_and_every_script_is_a_build_script() -> None:
    for spec in image_set():
        missing = [path for path in spec.inputs if not (ROOT / path).exists()]
        assert not missing, f"{spec.name}: {missing}"
        assert re.fullmatch(r"scripts/build-[a-z-]+\.sh", spec.inputs[0]), spec.inputs[0]


def test_an_unknown_image_is_refused_by_name() -> None:
    done = subprocess.run(  # nosec B603 B607
        ["bash", "-c", ". scripts/lib/source.sh && . scripts/lib/images.sh && image_ref nope"],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1 and "no image 'nope'" in done.stderr


@pytest.mark.parametrize("text", [
    "base finsig/base . maybe scripts/build-base.sh\n",  # neither required nor optional
    "base finsig/base .\n",  # no script
    "a r . optional s\na r . optional s\n",  # a name twice
    "# only a comment\n",
])
def test_a_malformed_set_names_the_problem(text: str) -> None:
    with pytest.raises(BundleError, match="image-set.txt"):
        parse(text)


@pytest.mark.parametrize("doc", ["images.md", "airgap.md"])
def test_the_docs_name_exactly_the_set(doc: str) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    named = {f"finsig/{m.group(1)}" if m.group(1) else m.group(2) for m in NAMED.finditer(text)}
    assert named == {spec.repository for spec in image_set()}


def test_the_scope_table_lists_each_image_with_its_inputs() -> None:
    text = (ROOT / "docs" / "images.md").read_text(encoding="utf-8")
    table = text[text.index("| image | inputs | epoch scope | why |"):]
    rows = {name: (re.findall(r"`([^`]+)`", inputs), scope)
            for name, inputs, scope in ROW.findall(table.split("\n\n")[0])}
    assert list(rows) == [spec.repository for spec in image_set()]
    for spec in image_set():
        inputs, scope = rows[spec.repository]
        assert tuple(inputs) == spec.inputs, spec.name
        assert scope == "last commit touching the inputs", spec.name
