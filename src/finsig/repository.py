"""Prices in PostgreSQL: idempotent batch upserts and ordered reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from finsig.signals import PricePoint


@dataclass(frozen=True)
class UpsertOutcome:
    inserted: int
    updated: int
    unchanged: int


# One statement for the whole batch; unchanged rows are not rewritten and not returned.
# (xmax = 0) is true for a freshly inserted row version, false for one an upsert updated.
_UPSERT = """
INSERT INTO prices AS p (symbol, date, close)
SELECT %(symbol)s, d, c FROM unnest(%(dates)s::date[], %(closes)s::float8[]) AS batch (d, c)
ON CONFLICT (symbol, date) DO UPDATE
    SET close = EXCLUDED.close, updated_at = now()
    WHERE p.close IS DISTINCT FROM EXCLUDED.close
RETURNING (xmax = 0) AS inserted
"""


async def upsert_prices(
    conn: AsyncConnection[TupleRow], symbol: str, prices: Sequence[PricePoint]
) -> UpsertOutcome:
    """Write the batch in one transaction; rows are unique by date (the caller checks)."""
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO instruments (symbol) VALUES (%s) ON CONFLICT (symbol) DO NOTHING",
            (symbol,),
        )
        cur = await conn.execute(
            _UPSERT,
            {
                "symbol": symbol,
                "dates": [p.date for p in prices],
                "closes": [p.close for p in prices],
            },
        )
        written = [bool(row[0]) for row in await cur.fetchall()]
    inserted = sum(written)
    updated = len(written) - inserted
    return UpsertOutcome(inserted, updated, len(prices) - inserted - updated)


async def load_recent_prices(
    conn: AsyncConnection[TupleRow], symbol: str, end: dt.date, count: int
) -> list[PricePoint]:
    """The last `count` rows dated `end` or before, ordered by date (a backward index scan)."""
    cur = await conn.execute(
        "SELECT date, close FROM prices WHERE symbol = %s AND date <= %s"
        " ORDER BY date DESC LIMIT %s",
        (symbol, end, count),
    )
    return [PricePoint(row[0], row[1]) for row in reversed(await cur.fetchall())]


async def instrument_exists(conn: AsyncConnection[TupleRow], symbol: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM instruments WHERE symbol = %s", (symbol,))
    return await cur.fetchone() is not None


async def schema_version(conn: AsyncConnection[TupleRow]) -> int:
    """The highest applied migration, 0 when none (or no ledger yet)."""
    cur = await conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
    ledger = await cur.fetchone()
    if ledger is None or not ledger[0]:
        return 0
    cur = await conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
    row = await cur.fetchone()
    return int(row[0]) if row is not None else 0
