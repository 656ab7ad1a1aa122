"""Full origination decision latency, in-process, over N applications (default 10,000).

"Full decision" = everything but the borrower's waits: ``app.origination.decide`` for one
application — the signal check, consent check, education gate, the real-time risk engine on the
application event, the champion credit model (German-credit scorecard trained on the bundled public
data), policy (eligibility, limit formula, grid price, the servicing core's quote and the 24% IRR
cap check, household exposure, debt-to-income), the decision and the offer — each step its own
transaction with its audit row, on SQLite (default, a file under the scratch directory) or
PostgreSQL (``--db postgresql://…``).

Not timed: preparing the applications (submit, consents, the lesson with the server clock advanced
past its length), which are the borrower's steps. The applications cycle through the eight scenario
products and through good / grey / bad feature rows of the German-credit data, so approvals,
referrals and declines are all on the path.

Baselines in the same process, per application: the servicing core's quote of the offer alone
(``offer_quote``) and the champion model's ``score`` alone. Figures: p50 / p90 / p99 / max in ms of
each run; medians over ``--runs`` runs (each run decides a fresh set of applications).

    .venv/bin/python benchmarks/bench_origination.py --n 10000 --runs 3
    .venv/bin/python benchmarks/bench_origination.py --n 2000 --db postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from xindai.app.demo import APPLICANT_TEMPLATES, application_for, consent_all, feature_pool
from xindai.app.origination import (
    ModelScorer,
    Origination,
    decide,
    finish_lesson,
    start_lesson,
    submit_application,
)
from xindai.app.servicing import OpenLoan, offer_quote
from xindai.bootstrap import bootstrap, ensure_champion, upgrade_database
from xindai.kernel.clock import FixedClock
from xindai.scoring.artefact import load_model


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_pct(ms, 0.50), 3),
        "p90_ms": round(_pct(ms, 0.90), 3),
        "p99_ms": round(_pct(ms, 0.99), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def _prepare(
    o: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]], n: int, tag: str
) -> list[str]:
    codes = sorted(APPLICANT_TEMPLATES)
    kinds = ("good", "good", "good", "grey", "bad")
    ids: list[str] = []
    for i in range(n):
        code = codes[i % len(codes)]
        rows = pool[kinds[i % len(kinds)]]
        subject = f"bench-{tag}-{i:06d}"
        app = submit_application(o, application_for(code, subject, rows[i % len(rows)]))
        consent_all(o, subject, code)
        lesson = start_lesson(o, app["id"])
        clock.advance(timedelta(seconds=lesson["min_watch_seconds"]))
        quiz = o.catalogue.get(code).education.quiz
        finish_lesson(o, app["id"], [q.answer for q in quiz])
        ids.append(str(app["id"]))
    return ids


def run(n: int, runs: int, db: str | None, registry: Path) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="bench-orig-", dir=os.environ.get("XINDAI_SCRATCH")))
    url = db or f"sqlite:///{scratch}/orig.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    champion = ModelScorer("champion", load_model(ensure_champion(registry)))
    clock = FixedClock(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    o = platform.origination(clock=clock, scorers={"champion": champion})
    pool = feature_pool(champion)
    results: list[dict[str, Any]] = []
    outcomes: dict[str, int] = {}
    try:
        for r in range(runs):
            tag = f"{r}-{uuid.uuid4().hex[:6]}"
            started = time.perf_counter()
            ids = _prepare(o, clock, pool, n, tag)
            prep_s = time.perf_counter() - started
            decide_ms: list[float] = []
            for app_id in ids:
                t0 = time.perf_counter()
                view = decide(o, app_id)
                decide_ms.append((time.perf_counter() - t0) * 1e3)
                outcomes[view["status"]] = outcomes.get(view["status"], 0) + 1
            # baselines on the same applications: the quote alone, the score alone
            quote_ms: list[float] = []
            score_ms: list[float] = []
            lp = o.products["consumer-instalment"]
            rows = pool["good"]
            for i in range(len(ids)):
                cmd = OpenLoan(
                    product_code=lp.code,
                    principal=2_000_000,
                    term=12,
                    method="equal-installment",
                    annual_rate=Decimal("0.12"),
                    start_date=clock.today(),
                )
                t0 = time.perf_counter()
                offer_quote(cmd, lp)
                quote_ms.append((time.perf_counter() - t0) * 1e3)
                t0 = time.perf_counter()
                champion.score(rows[i % len(rows)], consent_sensitive=True)
                score_ms.append((time.perf_counter() - t0) * 1e3)
            results.append(
                {
                    "decide": _summary(decide_ms),
                    "quote_alone": _summary(quote_ms),
                    "score_alone": _summary(score_ms),
                    "prepare_s": round(prep_s, 1),
                }
            )
    finally:
        platform.close()

    def med(part: str, key: str) -> float:
        return round(statistics.median(x[part][key] for x in results), 3)

    decide_p50 = med("decide", "p50_ms")
    return {
        "benchmark": "origination full decision (in-process)",
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "applications_per_run": n,
        "runs": runs,
        "load_average": os.getloadavg(),
        "decide_p50_ms": decide_p50,
        "decide_p99_ms": med("decide", "p99_ms"),
        "decide_max_ms": med("decide", "max_ms"),
        "quote_alone_p50_ms": med("quote_alone", "p50_ms"),
        "score_alone_p50_ms": med("score_alone", "p50_ms"),
        "decide_over_quote_p50": round(decide_p50 / med("quote_alone", "p50_ms"), 1),
        "decide_over_score_p50": round(decide_p50 / med("score_alone", "p50_ms"), 1),
        "target_p99_ms": 50,
        "outcomes": outcomes,
        "per_run": results,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="applications per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", default=None, help="database URL (default: SQLite in a temp dir)")
    ap.add_argument("--registry", type=Path, default=Path("var/bench-models"))
    args = ap.parse_args()
    print(json.dumps(run(args.n, args.runs, args.db, args.registry), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
