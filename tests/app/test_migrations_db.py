"""Migrations on a real PostgreSQL: concurrent starts serialise on the advisory lock."""

from __future__ import annotations

import asyncio
import logging

import psycopg
import pytest
from psycopg import AsyncConnection

from finsig.migrations import LATEST_VERSION, MIGRATIONS, apply_migrations
from finsig.repository import schema_version
from finsig.runtime import Runtime
from finsig.settings import Settings
from tests.support.postgres import PostgresServer

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120)]


async def _migrate(url: str) -> list[int]:
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        return await apply_migrations(conn)


async def _version(url: str) -> int:
    async with await AsyncConnection.connect(url, autocommit=True) as conn:
        return await schema_version(conn)


def test_concurrent_migrations_apply_each_version_once(
    postgres: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # log calls run for real, as they do in the image
    url = postgres.fresh_database()

    async def race() -> list[list[int]]:
        return list(await asyncio.gather(*(_migrate(url) for _ in range(6))))

    results = asyncio.run(race())
    all_versions = [m.version for m in MIGRATIONS]
    assert sorted(results, key=len) == [[]] * 5 + [all_versions]
    with psycopg.connect(url) as conn:
        ledger = conn.execute(
            "SELECT version, name FROM schema_migrations ORDER BY version"
        ).fetchall()
    assert ledger == [(m.version, m.name) for m in MIGRATIONS]
    assert asyncio.run(_migrate(url)) == []
    applied = [r for r in caplog.records if r.getMessage() == "migration applied"]
    assert [getattr(r, "version") for r in applied] == all_versions


def test_schema_version_of_an_empty_database_is_0(postgres: PostgresServer) -> None:
    url = postgres.fresh_database()
    assert asyncio.run(_version(url)) == 0
    asyncio.run(_migrate(url))
    assert asyncio.run(_version(url)) == LATEST_VERSION


def test_readiness_waits_for_migrations_and_starts_them(postgres: PostgresServer) -> None:
    async def scenario() -> tuple[str, str]:
        runtime = Runtime(Settings(database_url=postgres.fresh_database()))
        await runtime.pool.open()  # no start(): nothing has migrated yet
        try:
            first = await runtime.readiness()
            for _ in range(100):
                report = await runtime.readiness()
                if report.ready:
                    break
                await asyncio.sleep(0.1)
            return first.database, report.database
        finally:
            await runtime.stop()

    assert asyncio.run(scenario()) == ("not migrated", "ok")
