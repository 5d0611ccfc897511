"""What a drill's run left in Docker, and the sweep that removes it afterwards.

A run's objects are found the ways the runner names them (finsig_runner.containers.resources and
run_network): the label org.finsig.run=<run id> on containers, networks, volumes and images, the
run's network by name (finsig-run-<run id>) and any container still on it (the project's own
tests start containers there), the image stage's tags (finsig/app:run-<run id>…).
Whatever the drill itself made (the runner container, a small image) carries DRILL_LABEL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import docker.errors

from finsig_runner.containers.resources import HOST_LABEL, remove_run, selector
from finsig_runner.containers.run_network import network_name
from finsig_runner.stages.image.stage import run_tag

DRILL_LABEL = "finsig.drill"
OWNER_LABELS = {"finsig.owner": "drills"}


def drill_labels(item: str) -> dict[str, str]:
    return {DRILL_LABEL: item, **OWNER_LABELS}


@dataclass(frozen=True)
class Image:
    """An image and the tags of it that are the run's (an ID may also carry tags nobody here
    made: a reproducible build gives the same ID)."""

    id: str
    tags: tuple[str, ...]

    @classmethod
    def whole(cls, image: Any) -> Image:
        return cls(str(image.id), tuple(image.tags))


def _run_objects(client: Any, run_id: str) -> list[tuple[str, Any]]:
    flt = selector(run_id)
    found: list[tuple[str, Any]] = [
        ("container", c) for c in client.containers.list(all=True, filters=flt)]
    found += [("network", n) for n in client.networks.list(filters=flt)]
    by_name = [n for n in client.networks.list(names=[network_name(run_id)])
               if n.name == network_name(run_id)]
    found += [("network", n) for n in by_name]
    for network in by_name:  # whatever is still on the run's network is the run's, labels or not
        network.reload()
        for cid in network.attrs.get("Containers") or {}:
            try:
                found.insert(0, ("container", client.containers.get(cid)))
            except docker.errors.NotFound:
                pass
    found += [("volume", v) for v in client.volumes.list(filters=flt)]
    found += [("image", Image.whole(i)) for i in client.images.list(filters=flt)]
    prefix = run_tag(run_id)
    for image in client.images.list(name=prefix.split(":")[0]):
        tags = tuple(t for t in image.tags if t.startswith(prefix))
        if tags:
            found.append(("image", Image(image.id, tags)))
    return found


def _labelled(client: Any, label: str) -> list[tuple[str, Any]]:
    flt = {"label": label}
    found: list[tuple[str, Any]] = [
        ("container", c) for c in client.containers.list(all=True, filters=flt)]
    found += [("network", n) for n in client.networks.list(filters=flt)]
    found += [("volume", v) for v in client.volumes.list(filters=flt)]
    found += [("image", Image.whole(i)) for i in client.images.list(filters=flt)]
    return found


def _name(kind: str, made: Any) -> str:
    if kind == "image":
        return f"image {','.join(made.tags) or made.id}"
    return f"{kind} {made.name}"


def _key(kind: str, made: Any) -> str:
    return f"{kind}:{made.id}:{','.join(made.tags) if kind == 'image' else ''}"


def objects(client: Any, run_ids: Iterable[str], item: str,
            hosts: Iterable[str] = ()) -> list[tuple[str, Any]]:
    """Every object of these runs and of this drill item, each once, containers first. `hosts`:
    runner containers' host names (short IDs), whose HOST_LABEL finds a run's objects even when
    its run ID was never seen (a run stopped before it said it)."""
    found: dict[str, tuple[str, Any]] = {}
    pairs = [pair for run_id in run_ids for pair in _run_objects(client, run_id)]
    pairs += [pair for host in hosts if host for pair in _labelled(client, f"{HOST_LABEL}={host}")]
    pairs += _labelled(client, f"{DRILL_LABEL}={item}")
    for kind, made in pairs:
        found.setdefault(_key(kind, made), (kind, made))
    order = {"container": 0, "network": 1, "volume": 2, "image": 3}
    return sorted(found.values(), key=lambda pair: order[pair[0]])


def leftovers(client: Any, run_ids: Iterable[str], item: str,
              hosts: Iterable[str] = ()) -> list[str]:
    """What remains of these runs and of this drill item, one line each ("container NAME")."""
    return [_name(kind, made) for kind, made in objects(client, run_ids, item, hosts)]


def _remove_image(client: Any, image: Image) -> None:
    for tag in image.tags:
        client.images.remove(tag)
    if not image.tags:
        client.images.remove(image.id)


def sweep(client: Any, run_ids: Iterable[str], item: str,
          hosts: Iterable[str] = ()) -> list[str]:
    """Remove what `leftovers` finds (the drill's own cleanup, after the observation)."""
    removed: list[str] = []
    ids, hosts = list(run_ids), list(hosts)
    for run_id in ids:
        removal = remove_run(client, run_id)
        removed += [f"{r.kind} {r.name}" for r in removal.removed]
    for kind, made in objects(client, ids, item, hosts):
        try:
            if kind == "container":
                made.remove(force=True, v=True)
            elif kind == "image":
                _remove_image(client, made)
            else:
                made.remove()
            removed.append(_name(kind, made))
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            removed.append(f"could not remove {_name(kind, made)}: {exc.explanation or exc}")
    return removed
