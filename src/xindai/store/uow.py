"""The SQL unit of work: one connection, one transaction, the repositories bound to it.

Leaving the ``with`` block commits; an exception rolls everything back — the loan change, its
journal entries and the idempotency record land together or not at all. A unique-key race on an
idempotency key surfaces as ``DuplicateKeyError`` so the use case can retry and read the first result.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from xindai.kernel.errors import DuplicateKeyError
from xindai.store.eod_repo import EodRepository
from xindai.store.fund_movement_repo import FundMovementRepository
from xindai.store.origination_repo import OriginationRepository
from xindai.store.repositories import IdempotencyRepository, JournalRepository, LoanRepository


class SqlUnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        self._conn = self.engine.connect()
        self._tx = self._conn.begin()
        self.loans = LoanRepository(self._conn)
        self.journal = JournalRepository(self._conn)
        self.idempotency = IdempotencyRepository(self._conn)
        self.eod = EodRepository(self._conn)
        self.fund_movements = FundMovementRepository(self._conn)
        self.origination = OriginationRepository(self._conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if exc_type is None:
                try:
                    self._tx.commit()
                except IntegrityError as err:
                    raise DuplicateKeyError(str(err.orig)) from err
            else:
                self._tx.rollback()
        finally:
            self._conn.close()
            self._conn = None
        if isinstance(exc, IntegrityError):
            raise DuplicateKeyError(str(exc.orig)) from exc
