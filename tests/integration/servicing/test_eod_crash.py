"""Crash drill: end of day interrupted after some chunks and re-run gives exactly the state of an
uninterrupted run; a finished date is not run again."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.integration.conftest import BACKENDS
from xindai.app.demo import seed_demo
from xindai.app.eod import run_eod
from xindai.app.servicing import show_loan
from xindai.bootstrap import Platform, bootstrap, upgrade_database
from xindai.store.tables import journal_entries, journal_lines

UNTIL = date(2026, 6, 30)


class Crash(RuntimeError):
    pass


def _state(p: Platform, loans: int) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    views = []
    for n in range(1, loans + 1):
        v = show_loan(p.uow, str(n))
        v.pop("id")
        v.pop("number")
        views.append(v)
    with p.engine.connect() as conn:
        rows = conn.execute(
            select(
                journal_entries.c.business_date,
                journal_entries.c.kind,
                journal_lines.c.loan_id,
                journal_lines.c.account,
                journal_lines.c.amount,
            ).join(journal_lines, journal_lines.c.entry_id == journal_entries.c.id)
        ).all()
    return views, sorted((str(r[0]), r[1], r[2] or 0, r[3], r[4]) for r in rows)


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_interrupted_eod_resumes_to_the_same_state(db_url: str, tmp_path: Any) -> None:
    reference_url = f"sqlite:///{tmp_path}/reference.db"
    books = []
    for url in (reference_url, db_url):
        upgrade_database(url)
        p = bootstrap(database_url=url)
        seed_demo(p.uow, p.products, loans=25, seed=3, until=UNTIL)
        books.append(p)
    reference, crashed = books
    try:
        for offset in range(1, 6):
            day = UNTIL + timedelta(days=offset)
            run_eod(reference.uow, reference.products, day, chunk_size=4)

            def crash_at_third(chunk_no: int) -> None:
                if chunk_no == 2:
                    raise Crash(f"simulated crash in chunk {chunk_no}")

            with pytest.raises(Crash):
                run_eod(
                    crashed.uow, crashed.products, day, chunk_size=4, before_commit=crash_at_third
                )
            resumed = run_eod(crashed.uow, crashed.products, day, chunk_size=4)
            assert resumed.status == "done" and not resumed.already_done
            assert resumed.chunks >= 1  # only what was left
        assert _state(crashed, 25) == _state(reference, 25)
        again = run_eod(crashed.uow, crashed.products, UNTIL + timedelta(days=5))
        assert again.already_done
        assert _state(crashed, 25) == _state(reference, 25)
    finally:
        for p in books:
            p.close()
