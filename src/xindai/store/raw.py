"""Driver-level SQL for the hot paths (end of day, bulk saves), portable across SQLite and PostgreSQL.

SQLAlchemy's per-parameter processing dominates when a million rows move; these helpers hand plain
tuples to the DBAPI ``executemany`` instead. Statements are written with ``?`` placeholders and
rewritten to ``%s`` for psycopg. SQLite stores dates as ISO strings (the SQLAlchemy ``Date``
convention), so dates are converted on the way in and parsed on the way out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection


class Raw:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"

    def sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.pg else statement

    def param(self, value: Any) -> Any:
        if not self.pg and isinstance(value, date):
            return _iso(value)
        return value

    def d(self, value: date | None) -> Any:
        """A date as the driver wants it (ISO text for SQLite)."""
        if value is None or self.pg:
            return value
        return _iso(value)

    def executemany(
        self, statement: str, rows: Sequence[Sequence[Any]], *, converted: bool = False
    ) -> None:
        """Run ``statement`` for every row; ``converted`` rows already hold driver-ready dates."""
        if not rows:
            return
        if not self.pg and not converted:
            rows = [tuple(self.param(v) for v in r) for r in rows]
        cursor = self.conn.connection.cursor()
        try:
            cursor.executemany(self.sql(statement), list(rows))
        finally:
            cursor.close()

    def fetchall(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        cursor = self.conn.connection.cursor()
        try:
            cursor.execute(self.sql(statement), tuple(self.param(p) for p in params))
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def mappings(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        result = self.conn.exec_driver_sql(
            self.sql(statement), tuple(self.param(p) for p in params)
        )
        cols = list(result.keys())
        return [dict(zip(cols, row, strict=True)) for row in result]


def as_date(value: Any) -> date | None:
    """A date from a driver value (a ``date`` on PostgreSQL, an ISO string on SQLite)."""
    if value is None or isinstance(value, date):
        return value
    return _parse(value)


# a book holds few distinct dates and the batch paths convert millions: memoise both directions
@lru_cache(maxsize=65536)
def _parse(text: str) -> date:
    return date.fromisoformat(text[:10])


@lru_cache(maxsize=65536)
def _iso(value: date) -> str:
    return value.isoformat()


def placeholders(n: int) -> str:
    return ", ".join("?" * n)


def chunks(ids: Sequence[int], size: int = 900) -> Iterable[Sequence[int]]:
    """Split an IN list (SQLite allows at most 32,766 variables per statement; stay well below)."""
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
