"""The HTTP API's request and response bodies."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from finsig.indicators import Signal

MAX_BATCH_ROWS = 10_000
# GET signals answers at most this many rows (a page); by default the last DEFAULT_SIGNAL_ROWS.
MAX_SIGNAL_ROWS = 10_000
DEFAULT_SIGNAL_ROWS = 1_000
# A 422 lists at most this many problems, and counts the rest.
MAX_PROBLEMS = 100
# The accepted closes (docs/app.md): wider than any listed instrument's price in any currency unit,
# and far from the float range's ends, so a stored series stays well inside the indicators' range.
MIN_CLOSE = 1e-9
MAX_CLOSE = 1e12
# Up to 12 of A-Z, 0-9 and ".", at least one of them not a dot: "." and ".." are path segments that
# HTTP clients remove (RFC 3986), so such a series could be written but never read back.
SYMBOL_PATTERN = r"^[A-Z0-9.]*[A-Z0-9][A-Z0-9.]*$"
SYMBOL_MAX_LENGTH = 12
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_string(value: Any) -> Any:
    """Only a YYYY-MM-DD string is a date here (pydantic alone would take numbers and datetimes)."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date string YYYY-MM-DD")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_string)]
Close = Annotated[
    float, Field(strict=True, ge=MIN_CLOSE, le=MAX_CLOSE, allow_inf_nan=False)
]


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    date: IsoDate
    close: Close


PriceBatch = Annotated[list[PriceIn], Field(min_length=1, max_length=MAX_BATCH_ROWS)]


class Health(BaseModel):
    status: str
    version: str


class Detail(BaseModel):
    """The body of every error answer other than 422."""

    detail: str


class Problem(BaseModel):
    row: int | None = Field(description="Index of the batch row; null for the whole request.")
    field: str | None
    message: str


class ProblemReport(BaseModel):
    detail: str
    problems: list[Problem] = Field(
        max_length=MAX_PROBLEMS, description=f"The first {MAX_PROBLEMS} problems, in order."
    )
    omitted: int = Field(ge=0, description="How many more problems were found but not listed.")


class IngestResult(BaseModel):
    symbol: str
    received: int
    inserted: int
    updated: int
    unchanged: int


class SignalOut(BaseModel):
    date: dt.date
    close: float
    sma_short: float | None
    sma_long: float | None
    signal: Signal
    rsi: float | None
    volatility: float | None


class SignalsOut(BaseModel):
    symbol: str
    short_window: int
    long_window: int
    rsi_period: int
    volatility_window: int
    limit: int
    rows: list[SignalOut] = Field(max_length=MAX_SIGNAL_ROWS)
    previous_end: dt.date | None = Field(
        description="The date of the row before this page (pass it as `end` for the previous "
        "page); null when the page starts with the series' first row."
    )


class Readiness(BaseModel):
    status: str
    database: str
    schema_version: int | None = None
    expected_schema_version: int
