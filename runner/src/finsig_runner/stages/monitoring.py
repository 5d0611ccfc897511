"""`monitoring`: promtool check config, check rules and test rules, in the Prometheus image.

The monitoring directory (config monitoring_dir: prometheus.yml, alert_rules.yml, tests/*.yml) is
copied into a container of the Prometheus image the staging compose file deploys (its service that
mounts prometheus.yml), with no network; promtool's verdicts come from its output and exit status.
Output: reports/monitoring-report.txt and reports/monitoring-report.json.
"""

from __future__ import annotations

import re
from pathlib import Path

from finsig_runner.containers import resources as docker_resources
from finsig_runner.core.context import Cancelled, StageContext
from finsig_runner.core.model import Check, StageInputs, StageResult, Status
from finsig_runner.stages.common import (
    Draft,
    StageBase,
    digests,
    error,
    finish,
    now,
    resolve,
    skipped,
)
from finsig_runner.containers.tool_container import ToolContainer
from finsig_runner.stages.staging_compose import NoPrometheus, prometheus_image

WORKDIR = "/work/monitoring"


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yml") if p.is_file())


class MonitoringStage(StageBase):
    name = "monitoring"
    requires: tuple[str, ...] = ()
    checks: tuple[str, ...] = ("monitoring.config", "monitoring.rules", "monitoring.rule_tests")
    always = False
    uses_project_env = False

    def inputs(self, ctx: StageContext) -> StageInputs:
        root = resolve(ctx, ctx.config.monitoring_dir)
        compose = resolve(ctx, ctx.config.staging_compose)
        try:
            image = _image(ctx)
        except NoPrometheus as exc:
            image = f"unknown: {exc}"
        return StageInputs(files=(*(_files(root) if root.is_dir() else ()), compose),
                           tools=(("promtool", image),))

    def run(self, ctx: StageContext) -> StageResult:
        started = now()
        root = resolve(ctx, ctx.config.monitoring_dir)
        config, rules = root / "prometheus.yml", root / "alert_rules.yml"
        if not config.is_file():
            return skipped(self.name, f"no {ctx.config.monitoring_dir}/prometheus.yml", started)
        unit_tests = sorted((root / "tests").glob("*.yml")) if (root / "tests").is_dir() else []
        try:
            image = _image(ctx)
        except NoPrometheus as exc:
            return error(self.name, f"promtool runs in the Prometheus image the staging compose "
                         f"file deploys: {exc}", started)
        import docker
        import docker.errors

        client = docker.from_env(timeout=120)
        labels = docker_resources.run_labels(ctx.run_id, self.name)
        copies = [(p, f"{WORKDIR}/{p.relative_to(root).as_posix()}") for p in _files(root)]
        result = Draft(self.name, Status.PASSED)
        text: list[str] = []
        try:
            with ToolContainer(client, image, labels, copies) as tool:
                version = tool.run(["promtool", "--version"])
                match = re.search(r"version (\S+)", version.output)
                result.tool_versions = {"promtool": match.group(1) if match else "unknown"}
                steps: list[tuple[str, list[str]]] = [
                    ("monitoring.config", ["check", "config", f"{WORKDIR}/prometheus.yml"])]
                if rules.is_file():
                    steps.append(("monitoring.rules", ["check", "rules",
                                                       f"{WORKDIR}/alert_rules.yml"]))
                if unit_tests:
                    steps.append(("monitoring.rule_tests", [
                        "test", "rules", *(f"{WORKDIR}/tests/{p.name}" for p in unit_tests)]))
                for check_id, args in steps:
                    if ctx.processes.cancelled.is_set():
                        raise Cancelled(self.name)
                    run = tool.run(["promtool", *args])
                    text.append(f"$ promtool {' '.join(args)}\n{run.output}"
                                f"[exit {run.exit_code}]\n")
                    result.checks.append(_verdict(check_id, run.exit_code, run.output))
        except docker.errors.ImageNotFound:
            return error(self.name, f"image {image} is not here (make images)", started)
        finally:
            docker_resources.remove_run(client, ctx.run_id, stage=self.name, images=False)
            client.close()
        if not unit_tests:
            result.checks.append(Check("monitoring.rule_tests", Status.SKIPPED,
                                       f"no {ctx.config.monitoring_dir}/tests/*.yml"))
        report_txt = ctx.reports / "monitoring-report.txt"
        ctx.writer.text(report_txt, "".join(text))
        report = ctx.reports / "monitoring-report.json"
        ctx.writer.json(report, {"checks": [c.to_json() for c in result.checks],
                                 "image": image, "unit_tests": [p.name for p in unit_tests]})
        result.outputs = digests(ctx, [report_txt, report])
        failed = [c for c in result.checks if c.status in (Status.FAILED, Status.ERROR)]
        if failed:
            result.status = Status.FAILED
            result.reason = "; ".join(f"{c.id}: {c.detail}" for c in failed)
        return finish(result, started)


def _image(ctx: StageContext) -> str:
    compose = resolve(ctx, ctx.config.staging_compose)
    if not compose.is_file():
        raise NoPrometheus(f"no {ctx.config.staging_compose}")
    return prometheus_image(compose, ctx.config.staging_app_image)


def _verdict(check_id: str, code: int, output: str) -> Check:
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    if code == 0:
        success = [ln for ln in lines if "SUCCESS" in ln]
        return Check(check_id, Status.PASSED, "; ".join(success[:3]) or "exit 0")
    problems: list[str] = []
    for line in lines:  # promtool: "FAILED:" then the file's error and its lines
        if line.startswith(("Checking ", "SUCCESS")) or line == "FAILED:" or line in problems:
            continue
        problems.append(line)
    detail = " ".join(problems[:6]) or (lines[-1] if lines else f"exit {code}")
    return Check(check_id, Status.FAILED, detail[:800])
