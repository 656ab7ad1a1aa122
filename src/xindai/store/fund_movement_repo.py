"""The fund-flow outbox in SQL: movements written with their journal entries, the publisher's lease.

``add`` runs inside the money command's unit of work, so a movement row exists if and only if its
journal entry does. ``mark_published`` records the log index once (``WHERE log_index IS NULL``: a
row is never re-pointed). The lease is one row per publisher name taken by a conditional
``UPDATE`` (free, expired, or already ours), so publishers on several processes take turns — the
per-loan hash chain of movements needs one appender at a time. ``cash_postings`` reads the
journal's cash lines of one loan, the figure the movements must reconcile with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from xindai.app.fund_movements import Movement
from xindai.store.tables import fund_flow_publisher, fund_movements, journal_entries, journal_lines


class FundMovementRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, movements: Sequence[Movement]) -> None:
        if not movements:
            return
        now = datetime.now(UTC)
        self.conn.execute(
            insert(fund_movements),
            [
                {
                    "movement_id": m.movement_id,
                    "loan_id": m.loan_id,
                    "loan_uuid": m.loan_uuid,
                    "kind": m.kind,
                    "source": m.source,
                    "target": m.target,
                    "amount": m.amount,
                    "value_date": m.value_date,
                    "purpose": m.purpose,
                    "journal_entry_id": m.journal_entry_id,
                    "idempotency_key": m.idempotency_key,
                    "created_at": now,
                }
                for m in movements
            ],
        )

    def pending(self, loan_uuid: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Unpublished movements in the order they were written (per loan: movement order)."""
        stmt = select(fund_movements).where(fund_movements.c.log_index.is_(None))
        if loan_uuid is not None:
            stmt = stmt.where(fund_movements.c.loan_uuid == loan_uuid)
        stmt = stmt.order_by(fund_movements.c.id).limit(limit)
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def count_pending(self, loan_uuid: str | None = None) -> int:
        stmt = select(func.count()).where(fund_movements.c.log_index.is_(None))
        if loan_uuid is not None:
            stmt = stmt.where(fund_movements.c.loan_uuid == loan_uuid)
        return int(self.conn.execute(stmt).scalar_one())

    def of_loan(self, loan_uuid: str) -> list[dict[str, Any]]:
        stmt = (
            select(fund_movements)
            .where(fund_movements.c.loan_uuid == loan_uuid)
            .order_by(fund_movements.c.id)
        )
        return [dict(r) for r in self.conn.execute(stmt).mappings()]

    def mark_published(self, row_id: int, log_index: int) -> bool:
        result = self.conn.execute(
            update(fund_movements)
            .where(fund_movements.c.id == row_id, fund_movements.c.log_index.is_(None))
            .values(log_index=log_index, published_at=datetime.now(UTC))
        )
        return result.rowcount == 1

    def take_lease(self, name: str, holder: str, now_ms: int, until_ms: int) -> bool:
        """Take (or renew) the lease ``name`` for ``holder`` until ``until_ms``; False if another
        holder's lease is still running."""
        t = fund_flow_publisher
        result = self.conn.execute(
            update(t)
            .where(
                t.c.name == name,
                or_(t.c.holder.is_(None), t.c.holder == holder, t.c.lease_until_ms < now_ms),
            )
            .values(holder=holder, lease_until_ms=until_ms)
        )
        if result.rowcount == 1:
            return True
        if self.conn.execute(select(t.c.name).where(t.c.name == name)).first() is not None:
            return False
        try:
            with self.conn.begin_nested():  # a first publisher racing us inserts the row too
                self.conn.execute(
                    insert(t), {"name": name, "holder": holder, "lease_until_ms": until_ms}
                )
        except IntegrityError:
            return False
        return True

    def release_lease(self, name: str, holder: str) -> None:
        t = fund_flow_publisher
        self.conn.execute(
            update(t)
            .where(t.c.name == name, t.c.holder == holder)
            .values(holder=None, lease_until_ms=0)
        )

    def cash_postings(self, loan_id: int) -> tuple[int, int]:
        """(cash received, cash paid out) in fen by the journal entries of ``loan_id``."""
        amount = journal_lines.c.amount
        stmt = (
            select(
                func.coalesce(func.sum(amount).filter(amount > 0), 0),
                func.coalesce(func.sum(-amount).filter(amount < 0), 0),
            )
            .select_from(
                journal_lines.join(
                    journal_entries, journal_lines.c.entry_id == journal_entries.c.id
                )
            )
            .where(and_(journal_entries.c.loan_id == loan_id, journal_lines.c.account == "cash"))
        )
        received, paid = self.conn.execute(stmt).one()
        return int(received), int(paid)
