"""``SqlTileStore``: the Merkle log's ``TileStore`` port on SQLite or PostgreSQL.

Entries and complete-subtree hashes live in ``chain_entries`` and ``chain_nodes`` keyed by
``(log_id, …)``; ``chain_heads`` holds each log's size. An append is one transaction that locks the
head row (``FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers), checks
the expected size, inserts the batch and moves the head — all or nothing. The tables are
append-only: primary keys refuse a second write to a position, and database triggers (migration
0003) refuse every ``UPDATE`` and ``DELETE``. A proof reads its O(log n) hashes in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, and_, insert, select, update

from xindai.chain.tiles import MissingEntryError, check_append_shape
from xindai.kernel.errors import ConflictError, NotFoundError
from xindai.store.tables import chain_entries, chain_heads

#: Subtree hashes at or above this level (256 leaves and more) are cached once read.
_CACHED_LEVEL = 8


class SqlTileStore:
    def __init__(self, engine: Engine, log_id: str = "default") -> None:
        self.engine = engine
        self.log_id = log_id
        self._mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        # Subtree hashes never change once written (keys + triggers), so the few upper-level
        # ones every proof needs are kept once read: a proof then queries only the lowest levels.
        self._upper: dict[tuple[int, int], bytes] = {}

    def _read(self, sql: str, params: Sequence[object]) -> list[Any]:
        """One read on a pooled driver connection: a proof is one small query, and SQLAlchemy's
        per-statement machinery (plus the engine's BEGIN IMMEDIATE on SQLite, meant for writers)
        cost several times the query itself. The pool rolls the connection back on return."""
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(sql, tuple(params))
            rows = cur.fetchall()
            cur.close()
        finally:
            raw.close()
        return list(rows)

    def size(self) -> int:
        rows = self._read(
            f"SELECT size FROM chain_heads WHERE log_id = {self._mark}", [self.log_id]
        )
        return int(rows[0][0]) if rows else 0

    def append(
        self, old_size: int, entries: Sequence[bytes], levels: Sequence[Sequence[bytes]]
    ) -> None:
        new_size = check_append_shape(old_size, entries, levels)
        with self.engine.begin() as conn:
            stmt = select(chain_heads.c.size).where(chain_heads.c.log_id == self.log_id)
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            current = conn.execute(stmt).scalar()
            if current is None:
                conn.execute(insert(chain_heads), {"log_id": self.log_id, "size": 0})
                current = 0
            if current != old_size:
                raise ConflictError(
                    f"append-only log {self.log_id!r} holds {current} entries, batch expects "
                    f"{old_size}: stored positions are never rewritten"
                )
            # Plain driver executemany: SQLAlchemy's per-row parameter processing cost more than
            # the database's own work for batches of thousands of rows.
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            log_id = self.log_id
            if entries:
                conn.exec_driver_sql(
                    f"INSERT INTO chain_entries (log_id, idx, data) VALUES ({mark}, {mark}, {mark})",
                    [(log_id, old_size + i, bytes(e)) for i, e in enumerate(entries)],
                )
            rows = [
                (log_id, h, (old_size >> h) + i, bytes(x))
                for h, nodes in enumerate(levels)
                for i, x in enumerate(nodes)
            ]
            if rows:
                conn.exec_driver_sql(
                    "INSERT INTO chain_nodes (log_id, level, idx, hash)"
                    f" VALUES ({mark}, {mark}, {mark}, {mark})",
                    rows,
                )
            # moving the head is the one write the triggers allow: size only ever grows
            conn.execute(
                update(chain_heads)
                .where(and_(chain_heads.c.log_id == self.log_id, chain_heads.c.size == old_size))
                .values(size=new_size)
            )

    def nodes(self, coords: Sequence[tuple[int, int]]) -> list[bytes]:
        if not coords:
            return []
        upper = self._upper
        by_level: dict[int, set[int]] = {}
        for level, index in coords:
            if (level, index) not in upper:
                by_level.setdefault(level, set()).add(index)
        found = self._fetch(by_level) if by_level else {}
        out = []
        for coord in coords:
            hash_ = found.get(coord) or upper.get(coord)
            if hash_ is None:
                level, index = coord
                raise NotFoundError(f"no stored subtree hash at level {level}, index {index}")
            out.append(hash_)
        if len(coords) <= 128:  # proof-sized reads only; audits stream everything once
            for coord, hash_ in found.items():
                if coord[0] >= _CACHED_LEVEL:
                    upper[coord] = hash_
        return out

    def _fetch(self, by_level: dict[int, set[int]]) -> dict[tuple[int, int], bytes]:
        mark = self._mark
        head = (
            "SELECT level, idx, hash FROM chain_nodes"
            f" WHERE log_id = {mark} AND level = {mark} AND idx"
        )
        # One primary-key lookup per level (a range when contiguous, as in audits), glued
        # with UNION ALL: a row-value IN over (level, idx) made SQLite scan the whole table.
        parts: list[str] = []
        params: list[object] = []
        for level, wanted in by_level.items():
            lo, hi = min(wanted), max(wanted)
            if hi - lo + 1 == len(wanted):
                parts.append(f"{head} BETWEEN {mark} AND {mark}")
                params += [self.log_id, level, lo, hi]
                continue
            ordered = sorted(wanted)
            for at in range(0, len(ordered), 500):
                chunk = ordered[at : at + 500]
                parts.append(f"{head} IN ({', '.join([mark] * len(chunk))})")
                params += [self.log_id, level, *chunk]
        rows = self._read(" UNION ALL ".join(parts), params)
        return {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}

    def entries(self, start: int, end: int) -> list[bytes]:
        size = self.size()
        if not 0 <= start <= end <= size:
            raise NotFoundError(f"entries [{start}, {end}) outside the log of {size}")
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(chain_entries.c.idx, chain_entries.c.data)
                .where(
                    chain_entries.c.log_id == self.log_id,
                    chain_entries.c.idx >= start,
                    chain_entries.c.idx < end,
                )
                .order_by(chain_entries.c.idx)
            ).all()
        # rows can only be missing if someone deleted them behind the triggers' back
        for offset, row in enumerate(rows):
            if int(row.idx) != start + offset:
                raise MissingEntryError(start + offset)
        if len(rows) != end - start:
            raise MissingEntryError(start + len(rows))
        return [bytes(r.data) for r in rows]
