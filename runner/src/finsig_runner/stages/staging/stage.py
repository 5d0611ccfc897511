"""`staging`: the compose file's stack on the run's network, proven healthy, scraped and alerting.

The topology comes from docker-compose.staging.yml (finsig_runner.containers.compose), the app image
from the `image` stage's artifacts/docker-image.tar (loaded, then removed) unless staging_app_image
names one. What is proven about the project — which services answer which readiness probe, the
metric that proves scraping, the smoke requests, the faults and their alerts — comes from
`[tool.finsig-runner.staging]` (docs/staging.md); the check ids follow those names. Teardown always
happens: on success, failure and interrupt (the engine sets the run's cancel event on
SIGINT/SIGTERM; every wait here watches it). Outputs: reports/deploy-report.log and .json.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from finsig_runner.containers import resources as docker_resources
from finsig_runner.containers.compose import ComposeError, ComposeProject, load_compose
from finsig_runner.containers.stack import Stack
from finsig_runner.containers.waits import StackError, Stopped
from finsig_runner.core.config import RunnerConfig, StagingSettings
from finsig_runner.core.config_loader import to_json
from finsig_runner.core.context import Cancelled, StageContext
from finsig_runner.core.errors import ConfigError
from finsig_runner.core.model import Check, StageInputs, StageResult, Status
from finsig_runner.stages.common import (
    Draft,
    StageBase,
    digests,
    error,
    failed,
    finish,
    now,
    resolve,
    skipped,
)
from finsig_runner.core.errors import EvidenceError
from finsig_runner.stages.staging import ids, topology
from finsig_runner.stages.staging.checks import Limits, StagingProbes
from finsig_runner.stages.staging.drill import FaultDrill
from finsig_runner.stages.staging.report import DeployReport
from finsig_runner.stages.staging_compose import compose_env
from finsig_runner.stages.staging.verified_image import load_verified


class StagingStage(StageBase):
    """Its `checks` follow the settings it is made with: the registry makes it from the run's
    configuration (`for_config`), so `validate` requires exactly the ids this run reports."""

    name = "staging"
    requires: tuple[str, ...] = ("image", "monitoring")
    always = False
    uses_project_env = False

    def __init__(self, settings: StagingSettings | None = None, drill: bool = True) -> None:
        self.checks: tuple[str, ...] = ids.declared(settings or StagingSettings(), drill)

    @classmethod
    def for_config(cls, config: RunnerConfig) -> StagingStage:
        return cls(config.staging, config.staging_fault_drill)

    def inputs(self, ctx: StageContext) -> StageInputs:
        compose = resolve(ctx, ctx.config.staging_compose)
        files = [compose, ctx.artifacts / "docker-image-sha256.txt"]
        files += [resolve(ctx, f) for r in ctx.config.staging.smoke
                  for f in (r.body_file, r.expect_file) if f]
        try:
            project = load_compose(compose, compose_env(ctx.config.staging_app_image))
            files += [b.path for s in project.services.values() for b in s.binds]
        except ComposeError:
            pass
        settings = to_json(ctx.config)["staging"]
        return StageInputs(files=tuple(files), config=(
            ("staging_app_image", ctx.config.staging_app_image),
            ("staging_fault_drill", str(ctx.config.staging_fault_drill)),
            ("staging", json.dumps(settings, sort_keys=True))))

    def run(self, ctx: StageContext) -> StageResult:
        started = now()
        compose = resolve(ctx, ctx.config.staging_compose)
        if not compose.is_file():
            return skipped(self.name, f"no {ctx.config.staging_compose}", started)
        import docker

        client = docker.from_env(timeout=120)
        loaded: str | None = None
        try:
            image = ctx.config.staging_app_image
            tar = ctx.artifacts / "docker-image.tar"
            if not image and tar.is_file():
                try:
                    loaded = image = load_verified(client, ctx.workspace)
                except EvidenceError as exc:  # a tar that is not the one recorded: a finding
                    return failed(Draft(self.name), str(exc), started)
            try:
                project = load_compose(compose, compose_env(image))
            except ComposeError as exc:
                return error(self.name, f"{ctx.config.staging_compose}: {exc}", started)
            return self._run(ctx, client, project, image, started)
        finally:
            if loaded:
                _unload(client, loaded)
            client.close()

    def _run(self, ctx: StageContext, client: Any, project: ComposeProject, image: str,
             started: datetime) -> StageResult:
        try:
            layout = topology.resolve(project, ctx.config.staging, ctx.workspace)
        except ConfigError as exc:
            return error(self.name, f"[tool.finsig-runner.staging] {exc}", started)
        report = DeployReport(ctx.run_id)
        report.log(f"compose file {ctx.config.staging_compose}; services in start order: "
                   + " | ".join(", ".join(level) for level in project.start_levels))
        if image:
            report.log(f"app image {image}")

        def stop() -> bool:
            return ctx.processes.cancelled.is_set()

        cfg = ctx.config
        limits = Limits(float(cfg.staging_check_timeout), float(cfg.staging_alert_timeout),
                        float(cfg.staging_start_timeout))
        labels = docker_resources.run_labels(ctx.run_id, self.name)
        stack = Stack(client, project, ctx.run_id, labels, report, limits.start, stop)
        interrupted = False
        crash: Exception | None = None
        try:
            self._prove(StagingProbes(stack, report, limits, stop, layout),
                        cfg.staging_fault_drill)
        except (Stopped, Cancelled):
            interrupted = True
            report.log("interrupted: tearing down")
        except Exception as exc:  # the engine or a tool broke: ERROR, yet torn down and reported
            crash = exc
            report.log(f"error: {type(exc).__name__}: {exc}; tearing down")
        finally:
            _tear_down(stack, report)
        result = Draft(self.name, Status.PASSED)
        result.checks = [t.check for t in report.checks]
        failed = report.failed()
        if interrupted:
            result.status, result.reason = Status.ABORTED, "interrupted; stack torn down"
        elif crash is not None:
            result.status = Status.ERROR
            result.reason = f"{type(crash).__name__}: {crash}"[:2000]
        elif failed:
            result.status = Status.FAILED
            result.reason = "; ".join(f"{c.id}: {c.detail}" for c in failed)[:2000]
        result.summary = {"measurements": report.measurements,
                          "services": list(project.services)}
        paths = report.write(ctx.writer, ctx.reports, result.status, result.reason)
        result.outputs = digests(ctx, list(paths))
        if interrupted:
            raise Cancelled(self.name)
        return finish(result, started)

    def _prove(self, probes: StagingProbes, drill: bool) -> None:
        stack, report = probes.stack, probes.report
        try:
            t0 = time.monotonic()
            began = datetime.now(UTC)
            try:
                stack.up()
            except StackError as exc:
                if exc.logs:
                    report.attach_log(exc.service, exc.logs)
                report.add(Check(ids.UP, Status.FAILED, str(exc)), began, time.monotonic() - t0)
                probes.logs_of_failed()
                return
            all_green = time.monotonic() - t0
            report.measure("all_green_s", all_green)
            report.add(Check(ids.UP, Status.PASSED,
                             f"{len(stack.services)} services healthy in {all_green:.1f}s"),
                       began, all_green)
            self._checks(probes)
            faults = probes.topology.settings.faults
            if not drill:
                report.log("fault drill off (staging_fault_drill = false)")
            elif faults and report.failed():
                report.log("fault drill skipped: an earlier check failed")
            else:
                for fault in faults:
                    FaultDrill(probes).run(fault)
            if report.failed():
                probes.logs_of_failed()
        finally:
            probes.http.close()

    def _checks(self, probes: StagingProbes) -> None:
        """Readiness, targets, rules, the smoke requests and scraping, in the declared order."""
        settings = probes.topology.settings
        for probe in settings.ready:
            probes.ready(probe)
        probes.targets()
        probes.rules()
        before = probes.metric_sum()
        for request in settings.smoke:
            probes.smoke(request)
        if settings.scrape is not None:
            probes.scrape(before)


def _tear_down(stack: Stack, report: DeployReport) -> None:
    """Remove the run's containers, network and volumes; `staging.teardown` says what stayed."""
    t0 = time.monotonic()
    problems = stack.down()
    left = {k: v for k, v in stack.left_over().items() if v}
    teardown = time.monotonic() - t0
    report.measure("teardown_s", teardown)
    if left:
        problems.append(f"left behind: {left}")
    detail = "; ".join(problems) or "every container, the network and volumes removed"
    report.add(Check(ids.TEARDOWN, Status.FAILED if problems else Status.PASSED, detail),
               datetime.now(UTC), teardown)


def _unload(client: Any, image: str) -> None:
    import docker.errors

    try:
        client.images.remove(image)  # a tag: untagged (and deleted when nothing else uses it)
    except docker.errors.APIError:
        pass
