"""schemas/ci_cd_schema.json: loaded from the installed runner (never from the evidence checked).

The copy at the repository's top level (schemas/ci_cd_schema.json) is byte-identical to the
package's (finsig_runner/schemas/ci_cd_schema.json); a test keeps them so.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

SCHEMA_FILE = "schemas/ci_cd_schema.json"


@lru_cache(maxsize=1)
def schema_bytes() -> bytes:
    return resources.files("finsig_runner").joinpath(SCHEMA_FILE).read_bytes()


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_bytes())
    return loaded


def errors(document: Any) -> list[str]:
    """Every way `document` breaks the schema, as `path: message`, sorted; [] when valid."""
    import jsonschema  # type: ignore[import-untyped]  # no stubs in the locked set

    validator = jsonschema.Draft202012Validator(schema())
    found = []
    for error in validator.iter_errors(document):
        where = "/".join(str(p) for p in error.absolute_path) or "(document)"
        found.append(f"{where}: {error.message}")
    return sorted(found)
