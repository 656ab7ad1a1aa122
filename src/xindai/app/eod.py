"""End of day for one business date over every active loan, in chunks.

``run_eod`` plans the date's chunks once, then claims and processes chunks one transaction each:
the fast path (accrual only) for most loans, the per-loan ``catch_up`` for the rest (due dates,
overdue, penalty, suspense, write-off). Cash a loan pays out during the night (suspense refunded
when it closes) keeps its own journal entry and goes to the fund-flow outbox in the chunk's
transaction, like a money command's. It is idempotent per date (a finished date is not run again;
a loan already run through the date is skipped), resumable after a crash (pending chunks are
picked up by the next run), and several workers on PostgreSQL share the chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from xindai.accounting.journal import JournalEntry, Line
from xindai.app import fund_movements
from xindai.app.ports import UnitOfWorkFactory
from xindai.app.servicing import Products
from xindai.servicing import lifecycle
from xindai.servicing.eod import AccrualRow, accrue_batch, is_fast
from xindai.servicing.loan import Loan


@dataclass
class EodReport:
    business_date: date
    status: str = "running"
    chunks: int = 0
    loans: int = 0
    fast: int = 0
    slow: int = 0
    entries: int = 0
    seconds: float = 0.0
    already_done: bool = False
    workers: list[str] = field(default_factory=list)

    @property
    def loans_per_second(self) -> float:
        return self.loans / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "business_date": self.business_date.isoformat(),
            "status": self.status,
            "already_done": self.already_done,
            "chunks": self.chunks,
            "loans": self.loans,
            "fast_path": self.fast,
            "per_loan_path": self.slow,
            "journal_entries": self.entries,
            "seconds": round(self.seconds, 3),
            "loans_per_second": round(self.loans_per_second, 1),
        }


ChunkHook = Callable[[int], None]


def run_eod(
    uow_factory: UnitOfWorkFactory,
    products: Products,
    day: date,
    *,
    chunk_size: int = 2000,
    worker: str = "worker-1",
    before_commit: ChunkHook | None = None,
    on_progress: Callable[[int], None] | None = None,
    fast_path: bool = True,
) -> EodReport:
    """Run end of day for ``day``. ``before_commit`` is a test hook called inside each chunk;
    ``fast_path=False`` sends every loan through the per-loan path (the cross-check reference)."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    started = time.perf_counter()
    report = EodReport(day, workers=[worker])
    with uow_factory() as uow:
        status = uow.eod.plan(day, chunk_size)
    if status == "done":
        report.status, report.already_done = "done", True
        return report
    while True:
        with uow_factory() as uow:
            chunk = uow.eod.claim(day, worker)
            if chunk is None:
                break
            candidates = uow.eod.candidates(day, chunk.first_id, chunk.last_id)
            fast_rows: list[AccrualRow] = []
            slow_ids: list[int] = []
            for c in candidates:
                grace = products[c.product_code].grace_days
                if (
                    fast_path
                    and c.row is not None
                    and is_fast(
                        day,
                        c.processed_through,
                        c.next_due_date,
                        c.oldest_unpaid_due,
                        c.suspense,
                        c.dpd,
                        grace,
                    )
                ):
                    fast_rows.append(c.row)
                else:
                    slow_ids.append(c.loan_id)
            updates, entry = accrue_batch(fast_rows, day)
            uow.eod.apply_fast(day, updates)
            entries = [entry] if entry is not None else []
            slow = uow.loans.get_many(slow_ids)
            slow_lines: list[Line] = []
            cash_entries: list[tuple[Loan, JournalEntry]] = []
            for loan in slow:
                for posted in lifecycle.catch_up(loan, products[loan.product_code], day):
                    if any(line.account == "cash" for line in posted.lines):
                        # money leaving the platform (suspense refunded on closing) keeps its own
                        # entry, so its fund-flow movement points at one loan's journal entry
                        cash_entries.append((loan, posted))
                    else:
                        slow_lines.extend(posted.lines)
            if slow_lines:
                # one batch posting per chunk; every line keeps its loan for the sub-ledger
                entries.append(
                    JournalEntry(day, "eod", tuple(slow_lines), memo=f"chunk {chunk.chunk_no}")
                )
            entries.extend(posted for _, posted in cash_entries)
            uow.loans.save_many(slow)
            entry_ids = uow.journal.add(entries)
            cash_ids = entry_ids[len(entries) - len(cash_entries) :]
            for (loan, posted), entry_id in zip(cash_entries, cash_ids, strict=True):
                # the fund-flow outbox, in the chunk's transaction (as for money commands)
                uow.fund_movements.add(
                    fund_movements.from_journal(
                        [posted],
                        [entry_id],
                        loan_id=loan.id,
                        loan_uuid=uow.loans.uuid_of(loan.id),
                        disbursed=loan.disbursed,
                        key=f"eod:{day.isoformat()}",
                    )
                )
            uow.eod.finish_chunk(day, chunk.chunk_no, len(candidates))
            if before_commit is not None:
                before_commit(chunk.chunk_no)
        report.chunks += 1
        report.loans += len(candidates)
        report.fast += len(fast_rows)
        report.slow += len(slow)
        report.entries += len(entries)
        if on_progress is not None:
            on_progress(len(candidates))
    with uow_factory() as uow:
        report.status = "done" if uow.eod.complete(day) else "running"
    report.seconds = time.perf_counter() - started
    return report


def eod_status(uow_factory: UnitOfWorkFactory, day: date) -> dict[str, object]:
    with uow_factory() as uow:
        return uow.eod.status(day)
