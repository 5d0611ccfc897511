"""The bundle's manifest and its signed statement: typed, with one JSON form each.

Parsing is strict (unknown or missing keys are refused), so a manifest that verifies by hash is
also one whose every field the importer understood.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from finsig_runner.bundle.errors import BundleVerificationError

MANIFEST_SCHEMA = "finsig.bundle.manifest/v1"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://finsig.dev/bundle/v1"
IMAGES_MEMBER = "images.tar"
MANIFEST_MEMBER = "manifest.json"

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def canonical_json(obj: Any) -> bytes:
    """The byte form written for manifest.json and the statement: sorted keys, 2-space indent,
    ASCII, trailing newline. Readers hash the bytes as stored and never re-serialise them."""
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode("ascii")


@dataclass(frozen=True)
class Member:
    """One member of images.tar. `sha256` is set for regular files, `linkname` for links."""

    name: str
    type: str  # "file", "dir", "symlink", "hardlink"
    size: int
    sha256: str = ""
    linkname: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "size": self.size,
            "sha256": self.sha256,
            "linkname": self.linkname,
        }

    @classmethod
    def from_json(cls, obj: Any) -> Member:
        data = _exact(obj, {"name", "type", "size", "sha256", "linkname"}, "members[]")
        return cls(
            _str(data, "name"), _str(data, "type"), _int(data, "size"),
            _str(data, "sha256"), _str(data, "linkname"),
        )


@dataclass(frozen=True)
class ImageEntry:
    ref: str  # name:tag as given to docker save
    name: str
    tag: str
    id: str  # sha256:<hex>, the image ID (its config digest)
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.ref, "name": self.name, "tag": self.tag, "id": self.id, "size": self.size
        }

    @classmethod
    def from_json(cls, obj: Any) -> ImageEntry:
        data = _exact(obj, {"ref", "name", "tag", "id", "size"}, "images[]")
        return cls(
            _str(data, "ref"), _str(data, "name"), _str(data, "tag"), _str(data, "id"),
            _int(data, "size"),
        )


@dataclass(frozen=True)
class Digest:
    name: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}

    @classmethod
    def from_json(cls, obj: Any, where: str) -> Digest:
        data = _exact(obj, {"name", "size", "sha256"}, where)
        digest = cls(_str(data, "name"), _int(data, "size"), _str(data, "sha256"))
        if not _HEX64.match(digest.sha256):
            raise BundleVerificationError("manifest", f"{where}.sha256 is not 64 hex digits")
        return digest


@dataclass(frozen=True)
class Manifest:
    created: str  # UTC, ISO 8601 with Z
    runner_version: str
    versions: dict[str, str]
    images: tuple[ImageEntry, ...]
    images_tar: Digest
    members: tuple[Member, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": MANIFEST_SCHEMA,
            "created": self.created,
            "runner_version": self.runner_version,
            "versions": dict(sorted(self.versions.items())),
            "images": [image.to_json() for image in self.images],
            "images_tar": self.images_tar.to_json(),
            "members": [member.to_json() for member in self.members],
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            obj = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BundleVerificationError("manifest", f"not JSON ({exc})") from exc
        keys = {
            "schema", "created", "runner_version", "versions", "images", "images_tar", "members"
        }
        top = _exact(obj, keys, "manifest")
        if top["schema"] != MANIFEST_SCHEMA:
            raise BundleVerificationError("manifest", f"unknown schema {top['schema']!r}")
        versions = top["versions"]
        if not isinstance(versions, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in versions.items()
        ):
            raise BundleVerificationError("manifest", "versions must map strings to strings")
        images, members = top["images"], top["members"]
        if not isinstance(images, list) or not isinstance(members, list):
            raise BundleVerificationError("manifest", "images and members must be lists")
        return cls(
            created=_str(top, "created"),
            runner_version=_str(top, "runner_version"),
            versions=dict(versions),
            images=tuple(ImageEntry.from_json(i) for i in images),
            images_tar=Digest.from_json(top["images_tar"], "images_tar"),
            members=tuple(Member.from_json(m) for m in members),
        )


@dataclass(frozen=True)
class Statement:
    """What OUT.dsse signs: an in-toto Statement v1 about the bundle file."""

    bundle_name: str
    bundle_sha256: str
    bundle_size: int
    manifest: Digest
    created: str
    runner_version: str

    def to_json(self) -> dict[str, Any]:
        return {
            "_type": STATEMENT_TYPE,
            "subject": [{"name": self.bundle_name, "digest": {"sha256": self.bundle_sha256}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "bundle_size": self.bundle_size,
                "manifest": self.manifest.to_json(),
                "created": self.created,
                "runner_version": self.runner_version,
            },
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_bytes(cls, data: bytes) -> Statement:
        try:
            obj = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise BundleVerificationError("statement", f"not JSON ({exc})") from exc
        top = _exact(obj, {"_type", "subject", "predicateType", "predicate"}, "statement")
        if top["_type"] != STATEMENT_TYPE or top["predicateType"] != PREDICATE_TYPE:
            raise BundleVerificationError("statement", "not a FINSIG bundle statement")
        subjects = top["subject"]
        if not isinstance(subjects, list) or len(subjects) != 1:
            raise BundleVerificationError("statement", "exactly one subject expected")
        subject = _exact(subjects[0], {"name", "digest"}, "subject")
        digest = _exact(subject["digest"], {"sha256"}, "subject.digest")
        pred = _exact(
            top["predicate"], {"bundle_size", "manifest", "created", "runner_version"}, "predicate"
        )
        statement = cls(
            bundle_name=_str(subject, "name"),
            bundle_sha256=_str(digest, "sha256"),
            bundle_size=_int(pred, "bundle_size"),
            manifest=Digest.from_json(pred["manifest"], "predicate.manifest"),
            created=_str(pred, "created"),
            runner_version=_str(pred, "runner_version"),
        )
        if not _HEX64.match(statement.bundle_sha256):
            raise BundleVerificationError("statement", "subject sha256 is not 64 hex digits")
        return statement


def _exact(obj: Any, keys: set[str], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict) or set(obj) != keys:
        raise BundleVerificationError("manifest", f"{where}: keys must be exactly {sorted(keys)}")
    return obj


def _str(data: dict[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise BundleVerificationError("manifest", f"{key} must be a string")
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BundleVerificationError("manifest", f"{key} must be a non-negative integer")
    return value
