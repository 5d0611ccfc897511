"""What one running app owns: settings, the connection pool, metrics and the migration task."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from finsig.metrics import Metrics
from finsig.migrations import LATEST_VERSION, apply_migrations
from finsig.repository import schema_version
from finsig.settings import Settings

logger = logging.getLogger(__name__)

POOL_MAX_SIZE = 10
CONNECT_TIMEOUT_SECONDS = 5
READY_TIMEOUT_SECONDS = 2.0
# How long a request waits for a pooled connection before answering 503.
REQUEST_POOL_TIMEOUT_SECONDS = 5.0
# After this long without success the pool abandons a reconnection attempt and starts a fresh one
# (with a fresh backoff) on the next request, so an outage never delays recovery by minutes.
RECONNECT_TIMEOUT_SECONDS = 30.0
MIGRATION_RETRY_MAX_SECONDS = 5.0


@dataclass(frozen=True)
class ReadinessReport:
    ready: bool
    database: str
    schema_version: int | None


@dataclass
class Runtime:
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    pool: AsyncConnectionPool = field(init=False)
    _migrator: asyncio.Task[None] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.pool = AsyncConnectionPool(
            self.settings.database_url,
            min_size=1,
            max_size=POOL_MAX_SIZE,
            open=False,
            name="finsig",
            check=AsyncConnectionPool.check_connection,
            timeout=REQUEST_POOL_TIMEOUT_SECONDS,
            reconnect_timeout=RECONNECT_TIMEOUT_SECONDS,
            kwargs={
                "autocommit": True,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "application_name": "finsig",
            },
        )
        self.metrics.track_pool(self._connections_in_use)

    def _connections_in_use(self) -> float:
        stats = self.pool.get_stats()
        return float(stats.get("pool_size", 0) - stats.get("pool_available", 0))

    async def start(self) -> None:
        # Start serving even when the database is not there yet: /readyz says 503 until it is.
        await self.pool.open(wait=False)
        self.ensure_migrating()

    async def stop(self) -> None:
        if self._migrator is not None and not self._migrator.done():
            self._migrator.cancel()
            try:
                await self._migrator
            except asyncio.CancelledError:
                pass
        await self.pool.close(timeout=5.0)

    def ensure_migrating(self) -> None:
        if self._migrator is None or self._migrator.done():
            self._migrator = asyncio.create_task(self._migrate_until_done(), name="finsig-migrate")

    async def _migrate_until_done(self) -> None:
        delay = 0.5
        while True:
            try:
                async with self.pool.connection(timeout=CONNECT_TIMEOUT_SECONDS * 2) as conn:
                    applied = await apply_migrations(conn)
                logger.info(
                    "schema ready", extra={"schema_version": LATEST_VERSION, "applied": applied}
                )
                return
            except (psycopg.Error, PoolTimeout) as exc:
                logger.warning("migrations waiting for the database", extra={"error": str(exc)})
            except Exception:
                # Never die silently in the background: /readyz would stay 503 with no reason.
                logger.exception("migrations failed; retrying")
            await asyncio.sleep(delay)
            delay = min(delay * 2, MIGRATION_RETRY_MAX_SECONDS)

    async def readiness(self) -> ReadinessReport:
        try:
            async with self.pool.connection(timeout=READY_TIMEOUT_SECONDS) as conn:
                version = await schema_version(conn)
        except (psycopg.Error, PoolTimeout) as exc:
            logger.warning("database unreachable", extra={"error": str(exc)})
            return ReadinessReport(False, "unreachable", None)
        if version < LATEST_VERSION:
            self.ensure_migrating()
            return ReadinessReport(False, "not migrated", version)
        return ReadinessReport(True, "ok", version)
