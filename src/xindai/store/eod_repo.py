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

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update

from xindai.servicing.eod import AccrualRow, is_fast
from xindai.store.tables import eod_chunks, eod_runs, installments, loans


@dataclass(frozen=True, slots=True)
class Chunk:
    chunk_no: int
    first_id: int
    last_id: int


@dataclass(frozen=True, slots=True)
class Candidate:
    loan_id: int
    fast: bool
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
        """Active loans in the range not yet run through ``day``, each marked fast or not."""
        ln, i = loans.c, installments.c
        stmt = (
            select(
                ln.id,
                ln.processed_through,
                ln.next_due_date,
                ln.oldest_unpaid_due,
                ln.suspense,
                ln.dpd,
                ln.cursor,
                ln.anchor_date,
                ln.anchor_accrued,
                i.interest,
                i.accrued_interest,
                i.due_date,
            )
            .select_from(
                loans.outerjoin(installments, and_(i.loan_id == ln.id, i.period == ln.cursor))
            )
            .where(and_(ln.id >= first_id, ln.id <= last_id, ln.status == "active"))
            .where((ln.processed_through.is_(None)) | (ln.processed_through < day))
            .order_by(ln.id)
        )
        out = []
        for r in self.conn.execute(stmt):
            fast = (
                r.anchor_date is not None
                and r.interest is not None
                and is_fast(
                    day,
                    r.processed_through,
                    r.next_due_date,
                    r.oldest_unpaid_due,
                    r.suspense,
                    r.dpd,
                )
            )
            row = (
                AccrualRow(
                    r.id,
                    r.cursor,
                    r.interest,
                    r.accrued_interest,
                    r.anchor_date,
                    r.anchor_accrued,
                    r.due_date,
                )
                if fast
                else None
            )
            out.append(Candidate(r.id, fast, row))
        return out

    def apply_fast(self, day: date, updates: Sequence[tuple[int, int, int, int]]) -> None:
        if not updates:
            return
        self.conn.execute(
            update(installments)
            .where(
                and_(
                    installments.c.loan_id == bindparam("b_loan"),
                    installments.c.period == bindparam("b_period"),
                )
            )
            .values(accrued_interest=bindparam("b_accrued")),
            [{"b_loan": u[0], "b_period": u[1], "b_accrued": u[2]} for u in updates],
        )
        self.conn.execute(
            update(loans)
            .where(loans.c.id == bindparam("b_loan"))
            .values(
                processed_through=day,
                interest_receivable=loans.c.interest_receivable + bindparam("b_delta"),
                version=loans.c.version + 1,
            ),
            [{"b_loan": u[0], "b_delta": u[3]} for u in updates],
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
