"""Ports: what the use cases need from persistence, as Protocols the store implements.

One unit of work per command: the loan change, its journal entries and the idempotency record
commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from types import TracebackType
from typing import Any, Protocol

from xindai.accounting.journal import JournalEntry, Line
from xindai.servicing.eod import AccrualRow
from xindai.servicing.loan import Loan


class LoanRepository(Protocol):
    def add(self, loan: Loan, *, uuid: str, borrower_ref: str | None = None) -> int: ...
    def get(self, loan_id: int, *, lock: bool = False) -> Loan: ...
    def get_many(self, ids: Sequence[int]) -> list[Loan]: ...
    def id_for(self, ref: str) -> int: ...
    def uuid_of(self, loan_id: int) -> str: ...
    def save(self, loan: Loan) -> None: ...
    def save_many(self, batch: Sequence[Loan]) -> None: ...


class JournalRepository(Protocol):
    def add(self, entries: Sequence[JournalEntry]) -> list[int]: ...
    def lines(self, loan_id: int | None = None) -> list[Line]: ...
    def trial_balance(self) -> dict[str, int]: ...
    def loan_balances(self) -> dict[int, dict[str, int]]: ...
    def entries_for(self, loan_id: int) -> list[dict[str, Any]]: ...


class IdempotencyRepository(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...
    def put(self, key: str, command: str, loan_id: int | None, result: dict[str, Any]) -> None: ...


class EodChunk(Protocol):
    chunk_no: int
    first_id: int
    last_id: int


class EodCandidate(Protocol):
    loan_id: int
    fast: bool
    row: AccrualRow | None


class EodRepository(Protocol):
    def plan(self, day: date, chunk_size: int) -> str: ...
    def claim(self, day: date, worker: str) -> EodChunk | None: ...
    def candidates(self, day: date, first_id: int, last_id: int) -> list[EodCandidate]: ...
    def apply_fast(self, day: date, updates: Sequence[tuple[int, int, int, int]]) -> None: ...
    def finish_chunk(self, day: date, chunk_no: int, loans: int) -> None: ...
    def complete(self, day: date) -> bool: ...
    def status(self, day: date) -> dict[str, Any]: ...


class UnitOfWork(Protocol):
    loans: LoanRepository
    journal: JournalRepository
    idempotency: IdempotencyRepository
    eod: EodRepository

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
