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

from sqlalchemy import Engine, and_, insert, select, tuple_, update

from xindai.chain.tiles import MissingEntryError, check_append_shape
from xindai.kernel.errors import ConflictError, NotFoundError
from xindai.store.tables import chain_entries, chain_heads, chain_nodes


class SqlTileStore:
    def __init__(self, engine: Engine, log_id: str = "default") -> None:
        self.engine = engine
        self.log_id = log_id

    def size(self) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(chain_heads.c.size).where(chain_heads.c.log_id == self.log_id)
            ).scalar()
        return int(found or 0)

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
        wanted = list(dict.fromkeys(coords))
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(chain_nodes.c.level, chain_nodes.c.idx, chain_nodes.c.hash).where(
                    chain_nodes.c.log_id == self.log_id,
                    tuple_(chain_nodes.c.level, chain_nodes.c.idx).in_(wanted),
                )
            ).all()
        found = {(int(r.level), int(r.idx)): bytes(r.hash) for r in rows}
        out = []
        for level, index in coords:
            if (level, index) not in found:
                raise NotFoundError(f"no stored subtree hash at level {level}, index {index}")
            out.append(found[(level, index)])
        return out

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
