"""The Docker side of the bundle: which images, `docker save` of all of them, `docker load`.

Everything goes through the docker SDK, so DOCKER_HOST (and DOCKER_TLS_VERIFY, DOCKER_CERT_PATH)
choose the engine, as with the docker CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import docker
import docker.errors
import requests

from finsig_runner.bundle.errors import EngineError, MissingImageError
from finsig_runner.bundle.image_set import image_set
from finsig_runner.bundle.manifest import ImageEntry

# The default image set (bundle/image-set.txt), each at the release version ...
DEFAULT_PATTERNS: tuple[str, ...] = tuple(spec.ref("{version}") for spec in image_set())
# ... of which these must be present: at least the base every image is built on, and the runner
# image that runs the pipeline at the isolated site (a bundle without it could run nothing there).
DEFAULT_REQUIRED: tuple[str, ...] = tuple(
    spec.ref("{version}") for spec in image_set() if spec.required)


def client_from_env(timeout: int = 600) -> Any:
    """A docker SDK client for the engine the environment names (DOCKER_HOST ...)."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except docker.errors.DockerException as exc:
        raise EngineError(f"no Docker engine answers: {exc}") from exc
    return client


def default_image_refs(client: Any, version: str) -> list[str]:
    """The image set at `version` as far as the engine has it, sorted; required ones must exist."""
    wanted = {p.format(version=version) for p in DEFAULT_PATTERNS}
    tags: set[str] = set()
    try:
        for image in client.images.list():
            tags.update(tag for tag in image.tags if tag in wanted)
    except docker.errors.APIError as exc:
        raise EngineError(f"cannot list images: {exc}") from exc
    missing = [r.format(version=version) for r in DEFAULT_REQUIRED]
    missing = [ref for ref in missing if ref not in tags]
    if missing:
        raise MissingImageError(
            f"required image(s) missing: {', '.join(missing)} (build them first: make images)"
        )
    return sorted(tags)


def resolve_images(client: Any, refs: Iterable[str]) -> list[ImageEntry]:
    """Inspect each name:tag; every one is required. Raises MissingImageError naming all missing."""
    entries: list[ImageEntry] = []
    missing: list[str] = []
    for ref in dict.fromkeys(refs):  # each once, in the order given
        name, sep, tag = ref.rpartition(":")
        if not sep or "/" in tag or not name:
            raise MissingImageError(f"{ref}: give images as name:tag (an untagged name is :latest)")
        try:
            image = client.images.get(ref)
        except docker.errors.ImageNotFound:
            missing.append(ref)
            continue
        except docker.errors.APIError as exc:
            raise EngineError(f"cannot inspect {ref}: {exc}") from exc
        entries.append(ImageEntry(ref, name, tag, image.id, int(image.attrs.get("Size", 0))))
    if missing:
        raise MissingImageError(f"required image(s) missing: {', '.join(missing)}")
    if not entries:
        raise MissingImageError("no images to bundle")
    return entries


def save_images(client: Any, refs: Sequence[str], chunk: int = 1 << 20) -> Iterator[bytes]:
    """One `docker save` of all `refs` together (shared layers appear once), as a byte stream."""
    api = client.api
    try:
        # docker-py's get_image() saves one image; the engine's endpoint takes several names.
        response = api._get(api._url("/images/get"), params={"names": list(refs)}, stream=True)
        api._raise_for_status(response)
    except docker.errors.APIError as exc:
        raise EngineError(f"docker save failed: {exc}") from exc
    return _guarded(response.iter_content(chunk_size=chunk), "docker save")


def _guarded(chunks: Iterator[bytes], what: str) -> Iterator[bytes]:
    """Re-raise a transport failure in the middle of a stream as an EngineError (exit 3)."""
    try:
        yield from chunks
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        raise EngineError(f"{what} failed mid-stream: {exc}") from exc


def load_images(client: Any, chunks: Iterable[bytes]) -> list[str]:
    """`docker load` from a byte stream; returns the engine's "Loaded image ..." lines."""
    lines: list[str] = []
    try:
        for event in client.api.load_image(chunks):
            if "error" in event or "errorDetail" in event:
                raise EngineError(f"docker load failed: {event.get('error') or event}")
            stream = str(event.get("stream", "")).strip()
            if stream:
                lines.append(stream)
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise EngineError(f"docker load failed: {exc}") from exc
    return lines


def image_id(client: Any, ref: str) -> str | None:
    """The ID of `ref` in the engine, or None when it is not there."""
    try:
        return str(client.images.get(ref).id)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as exc:
        raise EngineError(f"cannot inspect {ref}: {exc}") from exc


def engine_version(client: Any) -> str:
    try:
        return str(client.version().get("Version", "unknown"))
    except docker.errors.APIError:
        return "unknown"
