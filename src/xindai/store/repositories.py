"""Repositories over one SQLAlchemy connection (inside the unit of work's transaction).

``LoanRepository`` maps the ``Loan`` aggregate to a loan row plus its instalment rows and keeps the
derived columns (balances, bucket, next due date) in step on every save. ``JournalRepository``
appends balanced entries (lines batched). ``IdempotencyRepository`` remembers the first result of
every money command by its key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from xindai.accounting.journal import JournalEntry
from xindai.kernel.errors import NotFoundError
from xindai.servicing.loan import InstallmentState, Loan, LoanStatus
from xindai.store.raw import Raw, as_date, chunks, placeholders
from xindai.store.tables import (
    idempotency_keys,
    installments,
    journal_entries,
    journal_lines,
    loans,
)

INSTALLMENT_FIELDS = (
    "period",
    "start_date",
    "due_date",
    "principal",
    "interest",
    "fee",
    "accrued_interest",
    "fee_recognised",
    "late_fee",
    "prepayment_fee",
    "paid_principal",
    "paid_interest",
    "paid_fee",
)
_LOAN_STATE_FIELDS = (
    "status",
    "disbursed",
    "cursor",
    "anchor_date",
    "anchor_accrued",
    "penalty_charged",
    "penalty_paid",
    "penalty_carry",
    "suspense",
    "written_off_principal",
    "written_off_interest",
    "written_off_fee",
    "written_off_penalty",
    "recovered",
    "dpd",
    "processed_through",
    "closed_on",
)


def _now() -> datetime:
    return datetime.now(UTC)


def loan_row(loan: Loan) -> dict[str, Any]:
    """The loan row (state and derived columns) for ``loan``."""
    row: dict[str, Any] = {f: getattr(loan, f) for f in _LOAN_STATE_FIELDS}
    row["status"] = loan.status.value
    current = loan.current_installment()
    on = loan.processed_through or loan.start_date
    row.update(
        bucket=loan.bucket.value,
        next_due_date=current.due_date if current else None,
        cur_interest=current.interest if current else 0,
        cur_fee=current.fee if current and not current.fee_recognised else 0,
        cur_accrued=current.accrued_interest if current else 0,
        oldest_unpaid_due=loan.oldest_unpaid_due(on),
        principal_outstanding=loan.principal_outstanding,
        interest_receivable=loan.interest_receivable,
        fee_receivable=loan.fee_receivable,
        penalty_receivable=loan.penalty_receivable,
    )
    return row


def _loan_from(row: Mapping[str, Any], inst_rows: Iterable[Mapping[str, Any]]) -> Loan:
    loan = Loan(
        id=row["id"],
        number=row["number"],
        product_code=row["product_code"],
        currency=row["currency"],
        annual_rate=Decimal(row["annual_rate"]),
        method=row["method"],
        term=row["term"],
        start_date=row["start_date"],
        line_amount=row["line_amount"],
        first_due_date=row["first_due_date"],
        version=row["version"],
    )
    for f in _LOAN_STATE_FIELDS:
        setattr(loan, f, row[f])
    loan.status = LoanStatus(row["status"])
    loan.installments = [
        InstallmentState(**{f: r[f] for f in INSTALLMENT_FIELDS})
        for r in sorted(inst_rows, key=lambda r: r["period"])
    ]
    current = loan.current_installment()
    if current is not None:
        # the loan row holds the accruing instalment's accrued interest (end of day writes it there)
        current.accrued_interest = row["cur_accrued"]
    return loan


class LoanRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._for_update = conn.dialect.name == "postgresql"
        # instalment values as loaded, so a save writes only the rows that changed
        self._snapshots: dict[int, dict[int, tuple[Any, ...]]] = {}

    def add(self, loan: Loan, *, uuid: str, borrower_ref: str | None = None) -> int:
        """Insert a new loan (and any instalments); return its integer id."""
        row = {
            "uuid": uuid,
            "number": loan.number,
            "product_code": loan.product_code,
            "currency": loan.currency,
            "annual_rate": str(loan.annual_rate),
            "method": loan.method,
            "term": loan.term,
            "start_date": loan.start_date,
            "first_due_date": loan.first_due_date,
            "line_amount": loan.line_amount,
            "version": 0,
            "borrower_ref": borrower_ref,
            "created_at": _now(),
            **loan_row(loan),
        }
        loan_id = self.conn.execute(insert(loans).returning(loans.c.id), row).scalar_one()
        loan.id = loan_id
        self._write_installments([loan])
        return int(loan_id)

    def get(self, loan_id: int, *, lock: bool = False) -> Loan:
        stmt = select(loans).where(loans.c.id == loan_id)
        if lock and self._for_update:
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).mappings().first()
        if row is None:
            raise NotFoundError(f"loan {loan_id} not found")
        inst = self.conn.execute(
            select(installments).where(installments.c.loan_id == loan_id)
        ).mappings()
        loan = _loan_from(dict(row), [dict(r) for r in inst])
        self._snapshots[loan.id] = _inst_snapshot(loan)
        return loan

    def id_for(self, ref: str) -> int:
        """Resolve a loan reference: integer id, UUID or loan number."""
        col = loans.c.uuid if len(ref) == 36 else loans.c.number
        if ref.isdigit():
            return int(ref)
        found = self.conn.execute(select(loans.c.id).where(col == ref)).scalar()
        if found is None:
            raise NotFoundError(f"loan {ref} not found")
        return int(found)

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(loans)).scalar_one())

    def uuid_of(self, loan_id: int) -> str:
        return str(
            self.conn.execute(select(loans.c.uuid).where(loans.c.id == loan_id)).scalar_one()
        )

    def get_many(self, ids: Sequence[int]) -> list[Loan]:
        """Load many loans with two driver-level queries per slice of ids (the batch path)."""
        out: list[Loan] = []
        raw = Raw(self.conn)
        for part in chunks(list(ids)):
            marks = placeholders(len(part))
            by_loan: dict[int, list[dict[str, Any]]] = {i: [] for i in part}
            for r in raw.mappings(f"SELECT * FROM installments WHERE loan_id IN ({marks})", part):
                by_loan[r["loan_id"]].append(_inst_values(r))
            for r in raw.mappings(f"SELECT * FROM loans WHERE id IN ({marks}) ORDER BY id", part):
                out.append(_loan_from(_loan_values(r), by_loan[r["id"]]))
        for loan in out:
            self._snapshots[loan.id] = _inst_snapshot(loan)
        return out

    def save(self, loan: Loan) -> None:
        self.save_many([loan])

    def save_many(self, batch: Sequence[Loan]) -> None:
        """Write state, derived columns and changed instalments of every loan in ``batch``."""
        if not batch:
            return
        raw = Raw(self.conn)
        cols = list(loan_row(batch[0]))
        sets = ", ".join(f"{c} = ?" for c in cols)
        rows = []
        for loan in batch:
            row = loan_row(loan)
            rows.append((*(row[c] for c in cols), loan.id))
            loan.version += 1
        raw.executemany(f"UPDATE loans SET {sets}, version = version + 1 WHERE id = ?", rows)
        updates: list[tuple[Any, ...]] = []
        inserts: list[tuple[Any, ...]] = []
        deletes: list[tuple[int, int]] = []
        for loan in batch:
            before = self._snapshots.get(loan.id)
            now = _inst_snapshot(loan)
            if before is None:
                self.conn.execute(delete(installments).where(installments.c.loan_id == loan.id))
                inserts.extend((loan.id, *values) for values in now.values())
            else:
                for period, values in now.items():
                    old = before.get(period)
                    if old is None:
                        inserts.append((loan.id, *values))
                    elif old != values:
                        updates.append((*values[1:], loan.id, period))
                deletes.extend((loan.id, p) for p in before if p not in now)
            self._snapshots[loan.id] = now
        raw.executemany("DELETE FROM installments WHERE loan_id = ? AND period = ?", deletes)
        inst_sets = ", ".join(f"{f} = ?" for f in INSTALLMENT_FIELDS[1:])
        raw.executemany(
            f"UPDATE installments SET {inst_sets} WHERE loan_id = ? AND period = ?", updates
        )
        raw.executemany(
            f"INSERT INTO installments (loan_id, {', '.join(INSTALLMENT_FIELDS)}) VALUES ({placeholders(len(INSTALLMENT_FIELDS) + 1)})",
            inserts,
        )

    def _write_installments(self, batch: Sequence[Loan]) -> None:
        rows = [
            {"loan_id": loan.id, **{f: getattr(i, f) for f in INSTALLMENT_FIELDS}}
            for loan in batch
            for i in loan.installments
        ]
        if rows:
            self.conn.execute(insert(installments), rows)
        for loan in batch:
            self._snapshots[loan.id] = _inst_snapshot(loan)


def _inst_snapshot(loan: Loan) -> dict[int, tuple[Any, ...]]:
    return {i.period: tuple(getattr(i, f) for f in INSTALLMENT_FIELDS) for i in loan.installments}


def _inst_values(r: dict[str, Any]) -> dict[str, Any]:
    r["start_date"] = as_date(r["start_date"])
    r["due_date"] = as_date(r["due_date"])
    r["fee_recognised"] = bool(r["fee_recognised"])
    return r


_LOAN_DATES = ("start_date", "first_due_date", "anchor_date", "processed_through", "closed_on")


def _loan_values(r: dict[str, Any]) -> dict[str, Any]:
    for key in _LOAN_DATES:
        r[key] = as_date(r[key])
    return r


class JournalRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, entries: Sequence[JournalEntry]) -> list[int]:
        """Persist balanced entries and their lines; return the entry ids in order."""
        if not entries:
            return []
        now = _now()
        rows = [
            {
                "business_date": e.business_date,
                "kind": e.kind,
                "loan_id": e.loan_id,
                "memo": e.memo,
                "created_at": now,
            }
            for e in entries
        ]
        if len(rows) == 1:
            ids = [
                self.conn.execute(
                    insert(journal_entries).returning(journal_entries.c.id), rows[0]
                ).scalar_one()
            ]
        else:
            result = self.conn.execute(
                insert(journal_entries).returning(
                    journal_entries.c.id, sort_by_parameter_order=True
                ),
                rows,
            )
            ids = [r[0] for r in result]
        lines = [
            (eid, ln.account, ln.loan_id, ln.amount)
            for eid, e in zip(ids, entries, strict=True)
            for ln in e.lines
        ]
        Raw(self.conn).executemany(
            "INSERT INTO journal_lines (entry_id, account, loan_id, amount) VALUES (?, ?, ?, ?)",
            lines,
            converted=True,
        )
        return [int(i) for i in ids]

    def trial_balance(self) -> dict[str, int]:
        stmt = select(journal_lines.c.account, func.sum(journal_lines.c.amount)).group_by(
            journal_lines.c.account
        )
        return {a: int(s) for a, s in self.conn.execute(stmt)}

    def loan_balances(self) -> dict[int, dict[str, int]]:
        """Per loan, the sum of its postings per sub-ledger account (natural sign)."""
        stmt = (
            select(
                journal_lines.c.loan_id, journal_lines.c.account, func.sum(journal_lines.c.amount)
            )
            .where(journal_lines.c.loan_id.is_not(None))
            .group_by(journal_lines.c.loan_id, journal_lines.c.account)
        )
        out: dict[int, dict[str, int]] = {}
        for loan_id, acct, total in self.conn.execute(stmt):
            sign = -1 if acct == "suspense" else 1
            out.setdefault(int(loan_id), {})[acct] = sign * int(total)
        return out


class IdempotencyRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> dict[str, Any] | None:
        row = (
            self.conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key))
            .mappings()
            .first()
        )
        if row is None:
            return None
        result: dict[str, Any] = json.loads(row["result"])
        result["_command"] = row["command"]
        return result

    def put(self, key: str, command: str, loan_id: int | None, result: dict[str, Any]) -> None:
        self.conn.execute(
            insert(idempotency_keys),
            {
                "key": key,
                "command": command,
                "loan_id": loan_id,
                "result": json.dumps(result, default=str),
                "created_at": _now(),
            },
        )
