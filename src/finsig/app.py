"""The ASGI application: routes, problem reports, request metrics and the runtime's lifespan."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from psycopg_pool import PoolTimeout
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from finsig import __version__
from finsig.body_limit import BodyLimitMiddleware, BodyTooLarge, body_too_large
from finsig.metrics import Metrics
from finsig.models import Problem
from finsig.problems import duplicate_dates_in_body, problems_from_errors
from finsig.routes import invalid, router, unavailable
from finsig.runtime import Runtime
from finsig.settings import Settings

_UNPARSABLE: dict[type[BaseException], str] = {
    UnicodeDecodeError: "not UTF-8",
    RecursionError: "nested too deeply",
}
access_logger = logging.getLogger("finsig.access")
logger = logging.getLogger(__name__)


class RequestMetricsMiddleware:
    """Counts and times every HTTP request by route template (never the raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe_request(route, scope["method"], status, elapsed)
            access_logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )


async def _validation_failed(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # nosec B101
    problems = problems_from_errors(exc.errors())
    return invalid(problems + duplicate_dates_in_body(exc.body, problems))


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI answers 400 for a body its JSON reader raised on (bytes that are not UTF-8, nesting
    past the recursion limit); here it is a problem like any other JSON that cannot be read."""
    assert isinstance(exc, HTTPException)  # nosec B101
    cause = exc.__cause__
    reason = _UNPARSABLE.get(type(cause)) if cause is not None else None
    if exc.status_code == 400 and reason is not None:
        return invalid([Problem(row=None, field=None, message=f"body is not valid JSON: {reason}")])
    return await http_exception_handler(request, exc)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable", extra={"error": str(exc), "path": request.url.path})
    return unavailable({"detail": "database unavailable"})


async def _database_refused(request: Request, exc: Exception) -> JSONResponse:
    """A constraint the API does not check (one added in the database, say) refused the write:
    the transaction was rolled back whole."""
    assert isinstance(exc, psycopg.IntegrityError)  # nosec B101
    constraint = exc.diag.constraint_name or exc.sqlstate or "unknown"
    logger.warning("database refused a write", extra={"error": str(exc), "constraint": constraint})
    detail = f"the database refused the batch ({constraint}); nothing was written"
    return JSONResponse(status_code=409, content={"detail": detail})


def create_app(settings: Settings) -> FastAPI:
    runtime = Runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="finsig", version=__version__, lifespan=lifespan)
    app.state.runtime = runtime
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, _validation_failed)
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(psycopg.IntegrityError, _database_refused)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(BodyTooLarge, body_too_large)
    # Added last, so outermost: the metrics count the 413s too.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetricsMiddleware, metrics=runtime.metrics)
    return app
