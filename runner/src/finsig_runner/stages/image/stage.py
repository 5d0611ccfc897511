"""`image`: the app image from Dockerfile.app, built offline from the wheel `build` made.

The build context is prepared by the project's own script (config app_image_context_script,
`--wheel W --context DIR --prepare-only`: the wheel, the wheels the core lock pins, a hashed
requirements file) -- one way to make it, shared with `make images`. The build args VERSION,
REVISION and CREATED come from stages/image/build_args.py, scoped to the inputs the script
declares (`--print-inputs`), as `make images` does. The stage builds the image with network
none, tags it `<repository>:run-<run id>` (never the tag `make images` built), labels it with
the run, saves artifacts/docker-image.tar and writes artifacts/docker-image-sha256.txt (the image
ID) and artifacts/docker-hash.txt (sha256 of the tar). A second build with no cache shows whether
the image is reproducible (check image.reproducible; information unless
image_reproducible_required) and which config fields and layers differ. Both images are removed
before the stage ends: `staging` loads the saved tar, so it tests exactly the evidence.
"""

from __future__ import annotations

import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from finsig_runner.containers import resources as docker_resources
from finsig_runner.core.context import Cancelled, StageContext
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
    tool_git,
)
from finsig_runner.stages.image import image_diff as imagediff
from finsig_runner.stages.image.build_args import app_build_args

REPOSITORY = "finsig/app"
_STEP_IMAGE = re.compile(r"^ ---> ([0-9a-f]{12,64})\s*$", re.MULTILINE)


def run_tag(run_id: str, suffix: str = "") -> str:
    """The per-run tag: `finsig/app:run-<run id>[-suffix]` (Docker tags: [A-Za-z0-9_.-], 128)."""
    tag = re.sub(r"[^A-Za-z0-9_.-]", "-", f"run-{run_id}{suffix}")[:128]
    return f"{REPOSITORY}:{tag}"


class ImageStage(StageBase):
    name = "image"
    requires: tuple[str, ...] = ("build",)
    checks: tuple[str, ...] = ("image.build", "image.save", "image.reproducible")
    always = False
    uses_project_env = False
    runs_project_code = True

    def inputs(self, ctx: StageContext) -> StageInputs:
        files = [resolve(ctx, ctx.config.app_dockerfile),
                 resolve(ctx, ctx.config.app_image_context_script)]
        files += sorted(ctx.artifacts.glob("*.whl"))
        return StageInputs(
            files=tuple(files),
            config=(("app_dockerfile", ctx.config.app_dockerfile),
                    ("wheelhouse", ctx.config.wheelhouse),
                    ("image_reproducible_required", str(ctx.config.image_reproducible_required))),
        )

    def run(self, ctx: StageContext) -> StageResult:
        started = now()
        dockerfile = resolve(ctx, ctx.config.app_dockerfile)
        if not dockerfile.is_file():
            return skipped(self.name, f"no {ctx.config.app_dockerfile}", started)
        script = resolve(ctx, ctx.config.app_image_context_script)
        if not script.is_file():
            return error(self.name, f"no context script {ctx.config.app_image_context_script}",
                         started)
        wheels = sorted(ctx.artifacts.glob("*.whl"))
        if len(wheels) != 1:
            found = ", ".join(w.name for w in wheels) or "none"
            return error(self.name, f"expected one wheel from `build` in artifacts/, found {found}",
                         started)
        import docker

        client = docker.from_env(timeout=600)
        tags = (run_tag(ctx.run_id), run_tag(ctx.run_id, "-rebuild"))
        steps: set[str] = set()
        try:
            return self._run(ctx, client, dockerfile, script, wheels[0], tags, steps, started)
        finally:
            _remove_images(client, ctx, tags, steps)
            client.close()

    def _run(self, ctx: StageContext, client: Any, dockerfile: Path, script: Path, wheel: Path,
             tags: tuple[str, str], steps: set[str], started: datetime) -> StageResult:
        result = Draft(self.name, Status.PASSED)
        with tempfile.TemporaryDirectory(prefix="finsig-image-") as tmp:
            context = Path(tmp) / "context"
            env = {"FINSIG_WHEELHOUSE": str(resolve(ctx, ctx.config.wheelhouse))}
            prep = ctx.run_tool(["bash", str(script), "--wheel", str(wheel), "--context",
                                 str(context), "--prepare-only"], env=env, timeout=600)
            if prep.returncode != 0:
                last = (prep.output.strip().splitlines() or [""])[-1]
                return error(self.name, f"preparing the build context failed: {last}", started)
            (context / "Dockerfile").write_bytes(dockerfile.read_bytes())
            args, scope = build_args(ctx, script, wheel)
            labels = docker_resources.run_labels(ctx.run_id, self.name)
            first, log1 = _build(ctx, client, context, tags[0], args, labels, steps, False)
            if first is None:
                detail = f"docker build failed: {log1}"
                result.checks.append(Check("image.build", Status.FAILED, detail))
                return failed(result, detail, started)
            result.checks.append(Check("image.build", Status.PASSED, f"{tags[0]} {first}"))
            second, log2 = _build(ctx, client, context, tags[1], args, labels, steps, True)
        summary: dict[str, Any] = {"tag": tags[0], "image_id": first, "build_args": args,
                                   "build_args_scope": scope, "wheel": wheel.name}
        if second is None:
            repro = Check("image.reproducible", Status.ERROR,
                          f"the --no-cache rebuild failed: {log2}")
        else:
            diff = imagediff.compare(client.api.inspect_image(first),
                                     client.api.inspect_image(second))
            summary["rebuild"] = {"image_id": second, **diff.to_json()}
            # a differing rebuild is FAILED as a check; the stage fails on it only when required
            status = Status.PASSED if diff.same else Status.FAILED
            repro = Check("image.reproducible", status, diff.describe())
        result.checks.append(repro)
        _check_cancel(ctx)
        tar = ctx.artifacts / "docker-image.tar"
        sha = _save(client, tags[0], tar)
        ctx.writer.text(ctx.artifacts / "docker-image-sha256.txt", first + "\n")
        ctx.writer.text(ctx.artifacts / "docker-hash.txt", f"{sha}  {tar.name}\n")
        summary["tar_sha256"] = sha
        result.checks.append(Check("image.save", Status.PASSED, f"{tar.name} sha256 {sha}"))
        report = ctx.reports / "image-report.json"
        ctx.writer.json(report, {**summary, "checks": [c.to_json() for c in result.checks]})
        result.summary = summary
        result.outputs = digests(ctx, [tar, ctx.artifacts / "docker-image-sha256.txt",
                                       ctx.artifacts / "docker-hash.txt", report])
        version = client.version()
        result.tool_versions = {"docker-engine": str(version.get("Version", "unknown"))}
        if repro.status is Status.FAILED and ctx.config.image_reproducible_required:
            return failed(result, f"image.reproducible: {repro.detail}", started)
        if repro.status is Status.ERROR:
            result.status = Status.ERROR
            result.reason = repro.detail
        return finish(result, started)


def build_args(ctx: StageContext, script: Path, wheel: Path) -> tuple[dict[str, str], list[str]]:
    """The build args and their scope: the inputs the context script declares, else HEAD ([])."""
    listed = ctx.run_tool(["bash", str(script), "--print-inputs"], timeout=60)
    lines = listed.output.splitlines() if listed.returncode == 0 else []
    inputs = [line.strip() for line in lines if line.strip()]
    args = app_build_args(ctx.workspace, inputs, wheel, git=tool_git(ctx))
    return args.as_dict(), inputs


def _check_cancel(ctx: StageContext) -> None:
    if ctx.processes.cancelled.is_set():
        raise Cancelled(ctx.stage)


def _build(ctx: StageContext, client: Any, context: Path, tag: str, args: dict[str, str],
           labels: dict[str, str], steps: set[str], nocache: bool) -> tuple[str | None, str]:
    """docker build --network none; (image ID, "") or (None, the last error line).

    `steps` collects the ID of every step image, so that the leftovers can be removed.
    """
    _check_cancel(ctx)
    ctx.log_path.parent.mkdir(parents=True, exist_ok=True)
    last = ""
    with ctx.log_path.open("a", encoding="utf-8") as log:
        log.write(f"$ docker build --network none {'--no-cache ' if nocache else ''}"
                  f"--tag {tag} {context}\n")
        stream = client.api.build(path=str(context), tag=tag, nocache=nocache, rm=True,
                                  forcerm=True, network_mode="none", buildargs=args,
                                  labels=labels, decode=True, pull=False)
        for chunk in stream:
            if "stream" in chunk:
                log.write(str(chunk["stream"]))
                steps.update(_STEP_IMAGE.findall(str(chunk["stream"])))
                text = str(chunk["stream"]).strip()
                last = text or last
            if "error" in chunk:
                message = str(chunk["error"]).strip()
                log.write(f"[error] {message}\n")
                return None, message
            if ctx.processes.cancelled.is_set():
                raise Cancelled(ctx.stage)
    try:
        image_id = str(client.images.get(tag).id)
    except Exception as exc:  # the stream ended without an image: the engine said why above
        return None, f"no image tagged {tag} after the build ({exc}); last output: {last}"
    return image_id, ""


def _save(client: Any, tag: str, target: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        for chunk in client.images.get(tag).save(named=True):
            handle.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def _remove_images(client: Any, ctx: StageContext, tags: tuple[str, ...], steps: set[str]) -> None:
    """The run's images, then the legacy builder's leftovers: step images nothing uses any more.

    Docker refuses (without force) to remove a step image that is tagged, has children (the
    layers of finsig/app:0.1.0 or of a running build) or backs a container: those stay.
    """
    import docker.errors

    for tag in tags:
        try:
            client.images.remove(tag, force=True)
        except docker.errors.APIError:
            pass
    docker_resources.remove_run(client, ctx.run_id, stage=ctx.stage, others=False)
    for image_id in sorted(steps):
        try:
            if not client.api.inspect_image(image_id).get("RepoTags"):
                client.images.remove(image_id, force=False)
        except docker.errors.APIError:
            pass
    with ctx.log_path.open("a", encoding="utf-8") as log:
        log.write(f"[runner] removed the run's images {', '.join(tags)}\n")
