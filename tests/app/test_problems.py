"""Validation errors become problems with row index and field."""

from __future__ import annotations

from finsig.models import Problem
from finsig.problems import problem_from_error


def test_body_row_field() -> None:
    message = "Input should be greater than 0"
    error = {"loc": ("body", 3, "close"), "msg": message, "type": "gt"}
    assert problem_from_error(error) == Problem(row=3, field="close", message=message)


def test_value_error_prefix_is_dropped() -> None:
    error = {"loc": ("body", 0, "date"), "msg": "Value error, must be a date", "type": "value"}
    assert problem_from_error(error).message == "must be a date"


def test_whole_body_path_and_query() -> None:
    assert problem_from_error({"loc": ("body",), "msg": "too long"}) == Problem(
        row=None, field=None, message="too long"
    )
    assert problem_from_error({"loc": ("path", "symbol"), "msg": "bad"}).field == "symbol"
    query = problem_from_error({"loc": ("query", "long_window"), "msg": "bad"})
    assert query.field == "long_window"
    assert problem_from_error({"loc": ("header", "x"), "msg": "bad"}).field is None


def test_invalid_json_is_about_the_body() -> None:
    error = {"loc": ("body", 7), "msg": "Expecting value", "type": "json_invalid"}
    problem = problem_from_error(error)
    assert problem.row is None and "not valid JSON" in problem.message
