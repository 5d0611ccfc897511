"""The runner image's ID, for the document and the provenance's builder id.

FINSIG_RUNNER_IMAGE_ID when set; else, when the runner runs in a container (the run's network is
named by FINSIG_RUNNER_NETWORK), the image of the container it runs in, asked of the Docker
engine behind the mounted socket; None on a host (the provenance then names a host builder).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from finsig_runner.containers.run_network import own_container_ids
from finsig_runner.containers.reach import NETWORK_ENV

IMAGE_ID_ENV = "FINSIG_RUNNER_IMAGE_ID"


def _docker_client() -> Any:
    import docker

    return docker.from_env()


def image_id(env: Mapping[str, str] | None = None,
             client_factory: Callable[[], Any] = _docker_client,
             ids: Callable[[], list[str]] = own_container_ids) -> str | None:
    env = os.environ if env is None else env
    if env.get(IMAGE_ID_ENV):
        return env[IMAGE_ID_ENV]
    if not env.get(NETWORK_ENV):
        return None
    try:
        client = client_factory()
        for cid in ids():
            try:
                image = client.containers.get(cid).attrs.get("Image")
            except Exception:  # not this id (docker.errors.NotFound): try the next candidate
                continue
            if image:
                return str(image)
    except Exception:  # no engine reachable: the document says null rather than guess
        return None
    return None
