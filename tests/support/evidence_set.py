"""Hand-built evidence: the real engine and validate stage over small fake stages (no real tools;
the SBOM maker is a fake that writes fixed bytes), so a whole signed evidence set takes well under
a second."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from finsig_runner.core import signing
from finsig_runner.core.config import RunnerConfig
from finsig_runner.core.context import StageContext
from finsig_runner.engine.outcome import RunOutcome
from finsig_runner.engine.run import Engine
from finsig_runner.stages.validate import sbom
from finsig_runner.core.model import (
    Check,
    FileDigest,
    ReportFragment,
    StageInputs,
    StageResult,
    Status,
)
from finsig_runner.evidence.earlier_run import EarlierRun
from finsig_runner.evidence.seal import Leftovers, seal
from finsig_runner.evidence.trust import Trust
from finsig_runner.engine.plan import build_plan
from finsig_runner.stages.registry import build_registry
from finsig_runner.stages.validate.stage import ValidateStage

DATABASE = {"source": "pypa/advisory-database@abc", "source_date": "2024-10-10"}
LOCK = "demo==1.0 \\\n    --hash=sha256:" + "ab" * 32 + "\n"


@dataclass
class Fake:
    """A stage that writes its outputs and reports fixed checks."""

    name: str
    checks: tuple[str, ...]
    outputs: dict[str, bytes] = field(default_factory=dict)
    status: Status = Status.PASSED
    check_status: dict[str, Status] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    always: bool = False
    uses_project_env: bool = False
    summary: dict[str, object] = field(default_factory=dict)
    fragments: tuple[ReportFragment, ...] = ()
    runs_project_code: bool = False

    def inputs(self, ctx: StageContext) -> StageInputs:
        return StageInputs()

    def seal(self, ctx: StageContext) -> None:
        pass

    def run(self, ctx: StageContext) -> StageResult:
        digests = []
        for rel, content in self.outputs.items():
            path = ctx.workspace / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            digests.append(FileDigest.of(path, ctx.workspace))
        checks = [Check(c, self.check_status.get(c, Status.PASSED), f"{c} detail")
                  for c in self.checks]
        return StageResult(self.name, self.status, "" if self.status.ok else "findings",
                           checks=tuple(checks), outputs=tuple(digests), summary=self.summary,
                           tool_versions={f"{self.name}-tool": "1.0"})


def fake_sboms(run: sbom.RunTool, root: Path, locks: Sequence[Path]
               ) -> tuple[sbom.Outcome, sbom.Outcome]:
    for rel in (sbom.APP, sbom.RUNNER):
        (root / rel).write_text(json.dumps({"bomFormat": "CycloneDX", "for": rel}) + "\n")
    return sbom.Outcome(sbom.APP, ""), sbom.Outcome(sbom.RUNNER, "")


def stages(**status: Status) -> list[Fake]:
    return [
        Fake("tests", ("tests.junit", "tests.coverage"),
             {"reports/test-results.xml": b"<testsuites/>\n",
              "reports/coverage.xml": b"<coverage line-rate='1'/>\n"},
             check_status={"tests.coverage": status.get("coverage", Status.PASSED)},
             status=status.get("tests", Status.PASSED)),
        Fake("lint", ("lint.flake8",), {"reports/flake8-report.txt": b""}),
        Fake("security", ("security.bandit", "security.dependencies"),
             {"reports/security-report.json": json.dumps({"database": DATABASE}).encode()},
             summary={"database": DATABASE}),
        Fake("build", ("build.build", "build.reproducible"),
             {"artifacts/demo-0.1.0-py3-none-any.whl": b"PK wheel bytes",
              "artifacts/demo-0.1.0.tar.gz": b"sdist bytes"}),
    ]


def make_key(where: Path) -> signing.KeyPairFiles:
    return signing.write_keypair(where)


def workspace(root: Path) -> Path:
    (root / "requirements").mkdir(parents=True, exist_ok=True)
    (root / "requirements" / "core.txt").write_text(LOCK)
    return root


def run(root: Path, fakes: Sequence[Fake], config: RunnerConfig, only: Sequence[str] = (),
        from_dir: Path | None = None, trust: Trust | None = None) -> RunOutcome:
    """The real engine over fake stages; then, when the config expects a signer whose key this
    module made (config(key)), the real sealer signs the finished run, as `finsig-runner seal`."""
    validate = ValidateStage.after(fakes)
    validate = replace(validate, make_sboms=fake_sboms)
    reg = build_registry([*fakes, validate])
    plan = build_plan(reg, (), only, from_dir)
    earlier = None
    if from_dir is not None:
        earlier = EarlierRun.open(from_dir.resolve(), trust or Trust(allow_unsigned=True))
    engine = Engine(reg, root, config, jobs=2, handle_signals=False,
                    prepare_env=lambda ctx: root / "venv" / "bin", earlier=earlier)
    outcome = engine.run(plan)
    seal_if_expected(root, config)
    return outcome


_KEYS: dict[str, Path] = {}  # fingerprint -> private key file, for the keys config() was given


def seal_if_expected(root: Path, config: RunnerConfig) -> None:
    key = _KEYS.get(config.expected_signer)
    if key is not None and (root / "artifacts" / "artifact-validation.json").is_file():
        seal(root, key, Leftovers())


def config(key: Path | None = None, **overrides: object) -> RunnerConfig:
    """A run config; with a private key, that key's fingerprint is the expected signer."""
    expected = ""
    if key is not None:
        expected = signing.fingerprint(signing.load_private_key(key))
        _KEYS[expected] = key
    base = RunnerConfig(expected_signer=expected, sbom=True)
    return replace(base, **overrides)  # type: ignore[arg-type]


def trust(*keys: signing.KeyPairFiles, allow_unsigned: bool = False) -> Trust:
    return Trust(tuple(str(k.public) for k in keys), allow_unsigned)
