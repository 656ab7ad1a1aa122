"""End-of-day persistence: chunk planning and claiming, the fast-path read and batched writes.

Chunks are loan-id ranges recorded in ``eod_chunks``; a worker claims a pending chunk inside its
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the work), processes
it and marks it done in the same transaction — a crash loses at most the chunk in flight, and a
re-run resumes from the first pending chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from xindai.servicing.eod import AccrualRow, AccrualUpdate
from xindai.store.raw import Raw, as_date, chunks, placeholders
from xindai.store.tables import eod_chunks, eod_runs, loans


@dataclass(frozen=True, slots=True)
class Chunk:
    chunk_no: int
    first_id: int
    last_id: int


@dataclass(frozen=True, slots=True)
class Candidate:
    loan_id: int
    product_code: str
    processed_through: date | None
    next_due_date: date | None
    oldest_unpaid_due: date | None
    suspense: int
    dpd: int
    row: AccrualRow | None


class EodRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._pg = conn.dialect.name == "postgresql"

    def plan(self, day: date, chunk_size: int) -> str:
        """Create the run and its chunks for ``day`` unless they exist; return the run status."""
        status = self.conn.execute(
            select(eod_runs.c.status).where(eod_runs.c.business_date == day)
        ).scalar()
        if status is not None:
            return str(status)
        ids = [
            r[0]
            for r in self.conn.execute(
                select(loans.c.id).where(loans.c.status == "active").order_by(loans.c.id)
            )
        ]
        chunks = [
            {
                "business_date": day,
                "chunk_no": n,
                "first_id": ids[i],
                "last_id": ids[min(i + chunk_size, len(ids)) - 1],
                "status": "pending",
                "loans": 0,
            }
            for n, i in enumerate(range(0, len(ids), chunk_size))
        ]
        self.conn.execute(
            insert(eod_runs),
            {
                "business_date": day,
                "status": "running",
                "chunk_size": chunk_size,
                "chunks": len(chunks),
                "started_at": datetime.now(UTC),
            },
        )
        if chunks:
            self.conn.execute(insert(eod_chunks), chunks)
        return "running"

    def claim(self, day: date, worker: str) -> Chunk | None:
        stmt = (
            select(eod_chunks.c.chunk_no, eod_chunks.c.first_id, eod_chunks.c.last_id)
            .where(and_(eod_chunks.c.business_date == day, eod_chunks.c.status == "pending"))
            .order_by(eod_chunks.c.chunk_no)
            .limit(1)
        )
        if self._pg:
            stmt = stmt.with_for_update(skip_locked=True)
        row = self.conn.execute(stmt).first()
        if row is None:
            return None
        self.conn.execute(
            update(eod_chunks)
            .where(and_(eod_chunks.c.business_date == day, eod_chunks.c.chunk_no == row.chunk_no))
            .values(worker=worker)
        )
        return Chunk(row.chunk_no, row.first_id, row.last_id)

    def candidates(self, day: date, first_id: int, last_id: int) -> list[Candidate]:
        """Active loans in the range not yet run through ``day``, with their accrual rows.

        The accruing instalment is denormalised on the loan row (``cur_*``), so this is one range
        scan of ``loans``; only loans rolling to their next period today read that instalment.
        """
        raw = Raw(self.conn)
        rows = raw.fetchall(
            "SELECT id, product_code, processed_through, next_due_date, oldest_unpaid_due, suspense,"
            " dpd, cursor, anchor_date, anchor_accrued, cur_interest, cur_accrued, cur_fee"
            " FROM loans WHERE id >= ? AND id <= ? AND status = 'active'"
            " AND (processed_through IS NULL OR processed_through < ?) ORDER BY id",
            (first_id, last_id, day),
        )
        rolling = [r[0] for r in rows if r[3] is not None and as_date(r[3]) == day]
        nxt: dict[int, tuple[Any, ...]] = {}
        for part in chunks(rolling):
            for lid, start, due, interest, fee in raw.fetchall(
                "SELECT n.loan_id, n.start_date, n.due_date, n.interest, n.fee FROM installments n"
                " JOIN loans l ON n.loan_id = l.id AND n.period = l.cursor + 1"
                f" WHERE l.id IN ({placeholders(len(part))})",
                part,
            ):
                nxt[lid] = (as_date(start), as_date(due), interest, fee)
        out = []
        for (
            lid,
            product,
            processed,
            next_due,
            oldest,
            suspense,
            dpd,
            cursor,
            anchor,
            anchor_acc,
            interest,
            accrued,
            fee,
        ) in rows:
            anchor_d, due_d, oldest_d = as_date(anchor), as_date(next_due), as_date(oldest)
            row = None
            if anchor_d is not None and due_d is not None:
                n_start, n_due, n_interest, n_fee = nxt.get(lid, (None, None, 0, 0))
                row = AccrualRow(
                    lid,
                    cursor,
                    interest,
                    accrued,
                    fee,
                    False,
                    anchor_d,
                    anchor_acc,
                    due_d,
                    n_start,
                    n_due,
                    n_interest,
                    n_fee,
                    oldest_d,
                )
            out.append(
                Candidate(lid, product, as_date(processed), due_d, oldest_d, suspense, dpd, row)
            )
        return out

    def apply_fast(self, day: date, updates: Sequence[AccrualUpdate]) -> None:
        raw = Raw(self.conn)
        d = raw.d
        steady = [u for u in updates if not u.rolled]
        rolled = [u for u in updates if u.rolled]
        raw.executemany(
            "UPDATE loans SET processed_through = ?, cur_accrued = ?,"
            " interest_receivable = interest_receivable + ?, version = version + 1 WHERE id = ?",
            [(d(day), u.cur_accrued, u.interest_delta, u.loan_id) for u in steady],
            converted=True,
        )
        raw.executemany(
            "UPDATE installments SET accrued_interest = ?, fee_recognised = ?"
            " WHERE loan_id = ? AND period = ?",
            [(u.accrued, u.fee_recognised, u.loan_id, u.period) for u in rolled],
            converted=True,
        )
        raw.executemany(
            "UPDATE loans SET processed_through = ?, cursor = ?, anchor_date = ?, anchor_accrued = ?,"
            " next_due_date = ?, oldest_unpaid_due = ?, cur_interest = ?, cur_fee = ?,"
            " cur_accrued = ?, interest_receivable = interest_receivable + ?,"
            " fee_receivable = fee_receivable + ?, version = version + 1 WHERE id = ?",
            [
                (
                    d(day),
                    u.cursor,
                    d(u.anchor_date),
                    u.anchor_accrued,
                    d(u.next_due_date),
                    d(u.oldest_unpaid_due),
                    u.cur_interest,
                    u.cur_fee,
                    u.cur_accrued,
                    u.interest_delta,
                    u.fee_delta,
                    u.loan_id,
                )
                for u in rolled
            ],
            converted=True,
        )

    def finish_chunk(self, day: date, chunk_no: int, loans_done: int) -> None:
        self.conn.execute(
            update(eod_chunks)
            .where(and_(eod_chunks.c.business_date == day, eod_chunks.c.chunk_no == chunk_no))
            .values(status="done", loans=loans_done, done_at=datetime.now(UTC))
        )

    def complete(self, day: date) -> bool:
        """Mark the run done when no chunk is pending; True if it is done."""
        pending = self.conn.execute(
            select(func.count())
            .select_from(eod_chunks)
            .where(and_(eod_chunks.c.business_date == day, eod_chunks.c.status != "done"))
        ).scalar_one()
        if pending:
            return False
        self.conn.execute(
            update(eod_runs)
            .where(eod_runs.c.business_date == day)
            .values(status="done", finished_at=datetime.now(UTC))
        )
        return True

    def status(self, day: date) -> dict[str, Any]:
        run = (
            self.conn.execute(select(eod_runs).where(eod_runs.c.business_date == day))
            .mappings()
            .first()
        )
        if run is None:
            return {"business_date": day.isoformat(), "status": "not-started"}
        done = self.conn.execute(
            select(func.count(), func.coalesce(func.sum(eod_chunks.c.loans), 0)).where(
                and_(eod_chunks.c.business_date == day, eod_chunks.c.status == "done")
            )
        ).one()
        return {
            "business_date": day.isoformat(),
            "status": run["status"],
            "chunks": run["chunks"],
            "chunks_done": int(done[0]),
            "loans_done": int(done[1]),
        }
