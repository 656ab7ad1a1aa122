"""End of day over a large active book: loans/s on SQLite (and PostgreSQL with 1 and 2 workers).

The book is seeded in bulk from template loans built by the real lifecycle (disbursed on 30
different days, repaid on their due dates, 4% left overdue), then ``run_eod`` processes one business
date. The baseline in the same process is the per-loan path only (load each loan, ``catch_up``,
save — what a naive engine does) on a sample, to give a ratio. Prints JSON.

    .venv/bin/python benchmarks/bench_eod.py --loans 1000000 --runs 3
    .venv/bin/python benchmarks/bench_eod.py --backend postgres --loans 1000000 --workers 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid as uuidlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from xindai.app.eod import run_eod
from xindai.bootstrap import bootstrap, run_eod_parallel, upgrade_database
from xindai.products.loan_product import load_catalogue
from xindai.servicing import lifecycle
from xindai.servicing.loan import Loan
from xindai.store.raw import Raw, placeholders
from xindai.store.repositories import INSTALLMENT_FIELDS, loan_row

DAY = date(2026, 7, 1)
PRODUCT = "consumer-instalment"


def _templates() -> list[Loan]:
    """60 template loans: 30 start days × (current, overdue), run through DAY − 1."""
    product = load_catalogue()[PRODUCT]
    out = []
    for cohort in range(30):
        for overdue in (False, True):
            start = DAY - timedelta(days=20 + cohort * 5)
            loan = Loan(
                id=0,
                number="T",
                product_code=PRODUCT,
                currency="CNY",
                annual_rate=Decimal("0.12"),
                method="equal-installment",
                term=12,
                start_date=start,
                line_amount=1_000_000,
            )
            lifecycle.disburse(loan, product, start, 1_000_000)
            d = start + timedelta(days=1)
            while d < DAY:
                lifecycle.run_day(loan, product, d)
                due = [i for i in loan.due_installments(d)]
                if due and not overdue:
                    owed = sum(
                        i.payable_fee + i.accrued_interest - i.paid_interest + i.unpaid_principal
                        for i in due
                    )
                    lifecycle.repay(loan, product, d, owed + loan.penalty_receivable)
                d += timedelta(days=1)
            out.append(loan)
    return out


def seed(url: str, n: int) -> None:
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    templates = _templates()
    now = datetime.now(UTC)
    batch = 20_000
    inst_cols = INSTALLMENT_FIELDS
    static = {
        "product_code": PRODUCT,
        "currency": "CNY",
        "annual_rate": "0.12",
        "first_due_date": None,
        "version": 0,
        "borrower_ref": None,
        "created_at": now,
    }
    with platform.engine.begin() as conn:
        raw = Raw(conn)
        t_rows = [
            {
                **static,
                "method": t.method,
                "term": t.term,
                "start_date": t.start_date,
                "line_amount": t.line_amount,
                **loan_row(t),
            }
            for t in templates
        ]
        loan_cols = ["id", "uuid", "number", *t_rows[0]]
        t_insts = [
            [tuple(raw.param(getattr(i, f)) for f in inst_cols) for i in t.installments]
            for t in templates
        ]
        t_vals = [tuple(raw.param(r[c]) for c in loan_cols[3:]) for r in t_rows]
        loan_sql = (
            f"INSERT INTO loans ({', '.join(loan_cols)}) VALUES ({placeholders(len(loan_cols))})"
        )
        inst_sql = f"INSERT INTO installments (loan_id, {', '.join(inst_cols)}) VALUES ({placeholders(len(inst_cols) + 1)})"
        for start in range(0, n, batch):
            loan_rows, inst_rows = [], []
            for k in range(start, min(n, start + batch)):
                t = (k % 30) * 2 + (1 if k % 25 == 0 else 0)  # 4% overdue
                lid = k + 1
                loan_rows.append((lid, str(uuidlib.UUID(int=lid)), f"B{lid:010d}", *t_vals[t]))
                inst_rows.extend((lid, *values) for values in t_insts[t])
            raw.executemany(loan_sql, loan_rows, converted=True)
            raw.executemany(inst_sql, inst_rows, converted=True)
    platform.close()


def run_once(url: str, day: date, chunk_size: int) -> dict[str, Any]:
    platform = bootstrap(database_url=url)
    try:
        return run_eod(platform.uow, platform.products, day, chunk_size=chunk_size).as_dict()
    finally:
        platform.close()


def baseline_per_loan(url: str, day: date, sample: int) -> dict[str, Any]:
    """The naive engine: one transaction and several queries per loan (catch_up only)."""
    platform = bootstrap(database_url=url)
    started = time.perf_counter()
    try:
        for lid in range(1, sample + 1):
            with platform.uow() as uow:
                loan = uow.loans.get(lid, lock=True)
                entries = lifecycle.catch_up(loan, platform.products[loan.product_code], day)
                uow.loans.save(loan)
                uow.journal.add(entries)
    finally:
        platform.close()
    seconds = time.perf_counter() - started
    return {
        "loans": sample,
        "seconds": round(seconds, 3),
        "loans_per_second": round(sample / seconds, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--loans", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chunk-size", type=int, default=5_000)
    ap.add_argument("--baseline-sample", type=int, default=20_000)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    args = ap.parse_args()
    out: dict[str, Any] = {
        "benchmark": "eod",
        "loans": args.loans,
        "backend": args.backend,
        "cores": os.cpu_count(),
    }
    if args.backend == "sqlite":
        work = Path(tempfile.mkdtemp(prefix="xindai-bench-"))
        master = work / "master.db"
        t0 = time.perf_counter()
        seed(f"sqlite:///{master}", args.loans)
        out["seed_seconds"] = round(time.perf_counter() - t0, 1)
        runs = []
        for r in range(args.runs):
            copy = work / f"run{r}.db"
            shutil.copy(master, copy)
            runs.append(run_once(f"sqlite:///{copy}", DAY, args.chunk_size))
            copy.unlink()
        base_copy = work / "baseline.db"
        shutil.copy(master, base_copy)
        baseline = baseline_per_loan(
            f"sqlite:///{base_copy}", DAY, min(args.baseline_sample, args.loans)
        )
        shutil.rmtree(work)
    else:
        pg = os.environ.get("XINDAI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
        import psycopg

        schema = "bench_eod"
        with psycopg.connect(pg, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            c.execute(f"CREATE SCHEMA {schema}")
        url = f"{pg}?options=-csearch_path%3D{schema}"
        t0 = time.perf_counter()
        seed(url, args.loans)
        out["seed_seconds"] = round(time.perf_counter() - t0, 1)
        platform = bootstrap(database_url=url)
        with platform.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        platform.close()
        runs = []
        # one business date per run (the book moves on a day each time), alternating worker counts
        day = DAY
        for _ in range(args.runs):
            for w in args.workers:
                res = run_eod_parallel(url, day, workers=w, chunk_size=args.chunk_size)
                res.pop("per_worker", None)
                runs.append({**res, "business_date": day.isoformat()})
                day += timedelta(days=1)
        baseline = baseline_per_loan(url, day, min(args.baseline_sample, args.loans))
    out["runs"] = runs
    lps = [float(r["loans_per_second"]) for r in runs]
    out["median_loans_per_second"] = round(statistics.median(lps), 1)
    if args.backend == "sqlite":
        out["median_seconds"] = round(statistics.median(float(r["seconds"]) for r in runs), 2)
    else:
        for w in args.workers:
            ws = [float(r["loans_per_second"]) for r in runs if r.get("workers") == w]
            out[f"median_loans_per_second_{w}_workers"] = round(statistics.median(ws), 1)
    out["baseline_per_loan"] = baseline
    out["ratio_to_baseline"] = round(
        out["median_loans_per_second"] / baseline["loans_per_second"], 1
    )
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
