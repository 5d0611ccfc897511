"""Turning validation errors into the API's problem list: one entry per problem, row and field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from finsig.models import MAX_BATCH_ROWS, Problem

_PREFIXES = ("Value error, ", "Assertion failed, ")


def _message(error: Mapping[str, Any]) -> str:
    message = str(error.get("msg", "invalid"))
    for prefix in _PREFIXES:
        if message.startswith(prefix):
            return message.removeprefix(prefix)
    return message


def problem_from_error(error: Mapping[str, Any]) -> Problem:
    """Map one FastAPI/pydantic error (loc like ("body", 3, "close")) to a Problem."""
    loc: Sequence[Any] = tuple(error.get("loc", ()))
    if error.get("type") == "json_invalid":
        return Problem(row=None, field=None, message=f"body is not valid JSON: {_message(error)}")
    if loc and loc[0] == "body":
        rest = loc[1:]
        row = rest[0] if rest and isinstance(rest[0], int) else None
        names = [str(part) for part in rest if not isinstance(part, int)]
        return Problem(row=row, field=".".join(names) or None, message=_message(error))
    if loc and loc[0] in ("path", "query"):
        field = ".".join(str(part) for part in loc[1:]) or None
        return Problem(row=None, field=field, message=_message(error))
    return Problem(row=None, field=None, message=_message(error))


def problems_from_errors(errors: Iterable[Mapping[str, Any]]) -> list[Problem]:
    return [problem_from_error(error) for error in errors]


def duplicate_dates(dates: Sequence[object]) -> list[Problem]:
    """One problem for each row whose date an earlier row already has (None: no valid date)."""
    first_seen: dict[object, int] = {}
    problems: list[Problem] = []
    for index, date in enumerate(dates):
        if date is None:
            continue
        if date in first_seen:
            message = f"duplicates row {first_seen[date]}"
            problems.append(Problem(row=index, field="date", message=message))
        else:
            first_seen[date] = index
    return problems


def duplicate_dates_in_body(body: Any, problems: Sequence[Problem]) -> list[Problem]:
    """Duplicate dates of a batch that failed validation for other reasons, so that the 422
    lists them too. Rows whose date is itself a problem are left out, and so is a batch over the
    row limit (its one problem is its length)."""
    if not isinstance(body, list) or len(body) > MAX_BATCH_ROWS:
        return []
    bad_dates = {p.row for p in problems if p.field == "date"}
    dates: list[object] = [
        row.get("date")
        if isinstance(row, dict) and isinstance(row.get("date"), str) and index not in bad_dates
        else None
        for index, row in enumerate(body)
    ]
    return duplicate_dates(dates)
