"""Versioned schema migrations, applied at start in one transaction under an advisory lock.

Two instances starting together serialise on the lock; the second finds everything applied.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import LiteralString

from psycopg import AsyncConnection
from psycopg.rows import TupleRow

logger = logging.getLogger(__name__)

# Any constant shared by every finsig instance; "finsig" in ASCII.
ADVISORY_LOCK_KEY = 0x66696E736967


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[LiteralString, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "instruments",
        (
            """CREATE TABLE instruments (
                   symbol text PRIMARY KEY CHECK (symbol ~ '^[A-Z0-9.]{1,12}$'),
                   created_at timestamptz NOT NULL DEFAULT now()
               )""",
        ),
    ),
    Migration(
        2,
        "prices",
        (
            """CREATE TABLE prices (
                   symbol text NOT NULL REFERENCES instruments (symbol),
                   date date NOT NULL,
                   close double precision NOT NULL CHECK (close > 0 AND close < 'Infinity'),
                   updated_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (symbol, date)
               )""",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version

_CREATE_LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""


def _pending(applied: set[int]) -> list[Migration]:
    return [m for m in MIGRATIONS if m.version not in applied]


async def apply_migrations(conn: AsyncConnection[TupleRow]) -> list[int]:
    """Apply every pending migration; returns the versions this call applied."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
        await conn.execute(_CREATE_LEDGER)
        cur = await conn.execute("SELECT version FROM schema_migrations")
        applied = {row[0] for row in await cur.fetchall()}
        done: list[int] = []
        for migration in _pending(applied):
            for statement in migration.statements:
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            done.append(migration.version)
            fields = {"version": migration.version, "migration": migration.name}
            logger.info("migration applied", extra=fields)
    return done
