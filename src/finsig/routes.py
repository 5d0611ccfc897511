"""The HTTP endpoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any, cast

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from finsig import __version__, repository
from finsig.metrics import CONTENT_TYPE
from finsig.migrations import LATEST_VERSION
from finsig.models import (
    DEFAULT_SIGNAL_ROWS,
    MAX_PROBLEMS,
    MAX_SIGNAL_ROWS,
    Detail,
    Health,
    IsoDate,
    SYMBOL_MAX_LENGTH,
    SYMBOL_PATTERN,
    IngestResult,
    PriceBatch,
    Problem,
    ProblemReport,
    Readiness,
    SignalOut,
    SignalsOut,
)
from finsig.problems import duplicate_dates
from finsig.runtime import Runtime
from finsig.signals import PricePoint, SignalParams, signal_page

router = APIRouter()

Symbol = Annotated[
    str,
    Path(
        pattern=SYMBOL_PATTERN,
        max_length=SYMBOL_MAX_LENGTH,
        description="Instrument symbol, e.g. ACME.L: up to 12 of A-Z, 0-9 and '.', not only dots",
    ),
]
WINDOW_MAX = 1000
# What a 503 asks a client to wait: about how long the pool takes to reconnect once the database
# is back (docs/app.md).
RETRY_AFTER_SECONDS = 2
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": Detail, "description": "database unavailable", "headers": _RETRY_AFTER}
}


def _link(**parameters: str) -> dict[str, Any]:
    """An OpenAPI link to GET signals (schemathesis follows links in its stateful tests)."""
    return {"operationId": "get_signals", "parameters": parameters}


def _runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


def unavailable(content: dict[str, Any]) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(status_code=503, content=content, headers=headers)


def invalid(problems: Sequence[Problem]) -> JSONResponse:
    report = ProblemReport(
        detail="invalid request",
        problems=list(problems[:MAX_PROBLEMS]),
        omitted=max(0, len(problems) - MAX_PROBLEMS),
    )
    return JSONResponse(status_code=422, content=report.model_dump())


@router.get("/healthz", operation_id="healthz")
async def healthz() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/readyz",
    operation_id="readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "not ready", "headers": _RETRY_AFTER}},
)
async def readyz(request: Request) -> JSONResponse:
    report = await _runtime(request).readiness()
    body = Readiness(
        status="ready" if report.ready else "not ready",
        database=report.database,
        schema_version=report.schema_version,
        expected_schema_version=LATEST_VERSION,
    )
    if not report.ready:
        return unavailable(body.model_dump())
    return JSONResponse(status_code=200, content=body.model_dump())


@router.get("/metrics", operation_id="metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> Response:
    return Response(_runtime(request).metrics.render(), media_type=CONTENT_TYPE)


@router.post(
    "/v1/instruments/{symbol}/prices",
    operation_id="ingest_prices",
    response_model=IngestResult,
    responses={
        200: {"links": {"GetSignals": _link(symbol="$request.path.symbol")}},
        409: {"model": Detail, "description": "the database refused the batch; nothing written"},
        413: {"model": Detail, "description": "the body is over FINSIG_MAX_BODY_BYTES"},
        422: {"model": ProblemReport},
        **UNAVAILABLE,
    },
)
async def ingest_prices(
    request: Request, symbol: Symbol, rows: Annotated[PriceBatch, Body()]
) -> IngestResult | JSONResponse:
    duplicates = duplicate_dates([row.date for row in rows])
    if duplicates:
        return invalid(duplicates)
    runtime = _runtime(request)
    points = [PricePoint(row.date, row.close) for row in rows]
    async with runtime.pool.connection() as conn:
        outcome = await repository.upsert_prices(conn, symbol, points)
    runtime.metrics.rows_ingested.inc(len(points))
    return IngestResult(
        symbol=symbol,
        received=len(points),
        inserted=outcome.inserted,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
    )


@router.get(
    "/v1/instruments/{symbol}/signals",
    operation_id="get_signals",
    response_model=SignalsOut,
    responses={
        200: {
            "links": {
                "PreviousPage": _link(
                    symbol="$request.path.symbol", end="$response.body#/previous_end"
                )
            }
        },
        404: {"model": Detail, "description": "unknown symbol"},
        422: {"model": ProblemReport},
        **UNAVAILABLE,
    },
)
async def get_signals(
    request: Request,
    symbol: Symbol,
    short_window: Annotated[int, Query(ge=1, le=WINDOW_MAX)] = 20,
    long_window: Annotated[int, Query(ge=2, le=WINDOW_MAX)] = 50,
    volatility_window: Annotated[int, Query(ge=2, le=WINDOW_MAX)] = 20,
    limit: Annotated[
        int, Query(ge=1, le=MAX_SIGNAL_ROWS, description="Rows in the page (the last ones).")
    ] = DEFAULT_SIGNAL_ROWS,
    end: Annotated[
        IsoDate | None, Query(description="The page's last date (YYYY-MM-DD); default: the latest.")
    ] = None,
) -> SignalsOut | JSONResponse:
    if short_window >= long_window:
        problem = Problem(row=None, field="short_window", message="must be less than long_window")
        return invalid([problem])
    params = SignalParams(short_window, long_window, volatility_window)
    async with _runtime(request).pool.connection() as conn:
        prices = await repository.load_recent_prices(
            conn, symbol, end or dt.date.max, limit + params.warmup_rows
        )
        known = bool(prices) or await repository.instrument_exists(conn, symbol)
    if not known:
        return JSONResponse(status_code=404, content={"detail": f"unknown symbol {symbol}"})
    page = await run_in_threadpool(signal_page, prices, params, limit)
    return SignalsOut(
        symbol=symbol,
        short_window=params.short_window,
        long_window=params.long_window,
        rsi_period=params.rsi_period,
        volatility_window=params.volatility_window,
        limit=limit,
        rows=[SignalOut.model_validate(row, from_attributes=True) for row in page.rows],
        previous_end=page.previous_end,
    )
