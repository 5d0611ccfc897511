"""The API fuzzed by schemathesis against a real PostgreSQL: no 5xx, every answer as documented.

Each operation gets FINSIG_FUZZ_EXAMPLES generated requests (valid and invalid ones, after
schemathesis' boundary cases), then as many scenarios follow the OpenAPI links (ingest, then read
the signals, then the previous page), all from FINSIG_FUZZ_SEED. `make drills` runs it longer by
raising FINSIG_FUZZ_EXAMPLES (docs/app.md).

The schema is the document the app serves (checked below), taken from the app at import time
because schemathesis' fixture-based loader does not run under pytest 9.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from finsig.app import create_app
from finsig.settings import Settings
from tests.support.postgres import PostgresServer
from tests.support.app_processes import AppProcess, start_app

pytestmark = [pytest.mark.docker, pytest.mark.timeout(600)]

SEED = int(os.environ.get("FINSIG_FUZZ_SEED", "17"))
EXAMPLES = int(os.environ.get("FINSIG_FUZZ_EXAMPLES", "100"))
STEPS_PER_SCENARIO = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": EXAMPLES, "database": "none", "mode": "all"},
    }
)
OPENAPI = create_app(Settings(database_url="postgresql://unused@127.0.0.1/unused")).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI, config=CONFIG)


@pytest.fixture(scope="module")
def fuzzed_app(
    postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppProcess]:
    """The real server process on its own database."""
    app = start_app(postgres.fresh_database(), tmp_path_factory.mktemp("fuzz") / "app.log")
    try:
        app.wait_ready()
        yield app
    finally:
        app.kill()


def test_the_fuzzed_document_is_the_one_the_app_serves(fuzzed_app: AppProcess) -> None:
    served = requests.get(f"{fuzzed_app.base_url}/openapi.json", timeout=10).json()
    assert served == OPENAPI


@schema.parametrize()
def test_every_operation_answers_as_documented(case: Any, fuzzed_app: AppProcess) -> None:
    case.call_and_validate(base_url=fuzzed_app.base_url, checks=CHECKS)


def test_linked_calls_answer_as_documented(fuzzed_app: AppProcess) -> None:
    class Checked(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": fuzzed_app.base_url}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    hypothesis.seed(SEED)(Checked)
    Checked.run(
        settings=hypothesis.settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS_PER_SCENARIO,
            deadline=None,
            database=None,
        )
    )
