"""A clearly-synthetic demo loan book, seeded and reproducible.

The origination population (``seed_population``) sends synthetic applicants for every scenario
product through the real pipeline — consent, education gate, risk engine, champion model, policy,
offer, signature, disbursement — so applications and decisions exist in every state too.

Borrowers are simulated day by day over the products in the catalogue: most pay on their due
dates, some pay late, some stop paying (and are written off at the product's DPD), some prepay in
full or in part, and supply-chain lines draw their tranches by stage. Every movement goes through
the real use cases and end of day, so the book, the journal and the trial balance are real.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from xindai.app.eod import run_eod
from xindai.app.origination import (
    Origination,
    accept_offer,
    application_view,
    decide,
    disburse_application,
    finish_lesson,
    give_consent,
    list_reviews,
    request_review,
    resolve_review,
    start_lesson,
    submit_application,
)
from xindai.app.ports import CreditScorer, UnitOfWorkFactory
from xindai.app.servicing import OpenLoan, Products, disburse, open_loan, prepay, repay, show_loan
from xindai.kernel.clock import FixedClock
from xindai.kernel.errors import ConflictError
from xindai.money.money import parse_yuan
from xindai.servicing.schedule import PrepaymentMode

SYNTHETIC_TAG = "demo-synthetic"


@dataclass
class _Borrower:
    ref: str
    number: str
    behaviour: str  # on-time | late | defaulter | prepay-full | prepay-part
    start: date
    tranches: list[tuple[date, int]]
    late_days: int
    stop_after: int  # defaulters stop paying after this many instalments
    prepay_on: date | None
    paid_periods: int = 0
    due_dates: tuple[date, ...] = ()


_PLANS = (
    ("consumer-instalment", "equal-installment", 12, "0.12", (5_000, 80_000)),
    ("consumer-instalment", "equal-principal", 6, "0.096", (2_000, 30_000)),
    ("bnpl-flat-fee", "flat-fee", 6, "0", (300, 6_000)),
    ("cash-bullet", "bullet", 3, "0.15", (1_000, 20_000)),
    ("supply-chain-line", "interest-only", 12, "0.06", (200_000, 200_000)),
)


def _behaviour(rng: random.Random) -> str:
    x = rng.random()
    if x < 0.62:
        return "on-time"
    if x < 0.74:
        return "late"
    if x < 0.82:
        return "defaulter"
    if x < 0.92:
        return "prepay-full"
    return "prepay-part"


def seed_demo(
    uow_factory: UnitOfWorkFactory,
    products: Products,
    *,
    loans: int = 60,
    seed: int = 7,
    until: date = date(2026, 11, 27),
    if_empty: bool = False,
) -> dict[str, Any]:
    """Build the demo book up to ``until``; return counts by status."""
    if if_empty:
        with uow_factory() as uow:
            existing = uow.loans.count()
        if existing:
            return {
                "loans": 0,
                "skipped": f"the database already holds {existing} loans",
                "by_status": {},
            }
    rng = random.Random(seed)
    first_day = until - timedelta(days=420)
    borrowers: list[_Borrower] = []
    for n in range(loans):
        code, method, term, rate, (lo, hi) = _PLANS[n % len(_PLANS)]
        start = first_day + timedelta(days=rng.randrange(0, 390))
        amount = rng.randrange(lo, hi + 1, 100) if hi > lo else lo
        view = open_loan(
            uow_factory,
            products,
            OpenLoan(
                product_code=code,
                principal=parse_yuan(amount),
                term=term,
                method=method,
                annual_rate=Decimal(rate),
                start_date=start,
                borrower_ref=f"{SYNTHETIC_TAG}-{n:05d}",
            ),
        )
        if code == "supply-chain-line":  # sowing 50,000 · growing 80,000 · harvest 70,000
            tranches = [
                (start, parse_yuan(50_000)),
                (start + timedelta(days=70), parse_yuan(80_000)),
                (start + timedelta(days=170), parse_yuan(70_000)),
            ]
        else:
            tranches = [(start, parse_yuan(amount))]
        behaviour = _behaviour(rng)
        prepay_on = (
            start + timedelta(days=rng.randrange(40, 120))
            if behaviour.startswith("prepay")
            else None
        )
        borrowers.append(
            _Borrower(
                view["number"],
                view["number"],
                behaviour,
                start,
                tranches,
                rng.randrange(5, 40),
                rng.randrange(0, 3),
                prepay_on,
            )
        )
    day = first_day
    while day <= until:
        for b in borrowers:
            # a loan may close when end of day applies cash held for it: then there is nothing to pay
            with contextlib.suppress(ConflictError):
                _act(uow_factory, products, b, day)

        run_eod(uow_factory, products, day)
        day += timedelta(days=1)
    by_status: dict[str, int] = {}
    for b in borrowers:
        status = str(show_loan(uow_factory, b.number)["status"])
        by_status[status] = by_status.get(status, 0) + 1
    return {"loans": loans, "until": until.isoformat(), "by_status": by_status, "synthetic": True}


def _act(uow_factory: UnitOfWorkFactory, products: Products, b: _Borrower, day: date) -> None:
    for n, (when, amount) in enumerate(b.tranches):
        if when == day and (n == 0 or show_loan(uow_factory, b.number)["status"] == "active"):
            disburse(uow_factory, products, b.number, amount, day, f"demo-{b.number}-draw-{n}")
            b.due_dates = _due_dates(uow_factory, b)
    if day <= b.start:
        return
    delay = timedelta(days=b.late_days if b.behaviour == "late" else 0)
    pay_day = any(d + delay == day for d in b.due_dates)
    if b.prepay_on != day and not pay_day:
        return  # nothing to do today: skip reading the loan
    view = show_loan(uow_factory, b.number)
    if view["status"] != "active":
        return
    if b.prepay_on == day:
        amount = (
            parse_yuan(view["balances"]["principal_receivable"])
            + parse_yuan(view["due_now"])
            + parse_yuan("500")
        )
        if b.behaviour == "prepay-part":
            amount //= 3
        prepay(
            uow_factory,
            products,
            b.number,
            amount,
            day,
            f"demo-{b.number}-prepay",
            PrepaymentMode.REDUCE_INSTALLMENT,
        )
        b.due_dates = _due_dates(uow_factory, b)
        return
    if b.behaviour == "defaulter" and b.paid_periods >= b.stop_after:
        return
    if pay_day:
        # the loan view is as of the last end of day; run-through happens inside repay
        owed = parse_yuan(view["due_now"])
        upcoming = [i for i in view["schedule"] if i["due_date"] == day.isoformat()]
        owed += sum(parse_yuan(i["total"]) for i in upcoming)
        if owed > 0:
            # late payers add a little to cover penalty accrued since the view; the excess is held
            # in suspense and applied on the next due date
            buffer = parse_yuan(50) if b.behaviour == "late" else 0
            repay(uow_factory, products, b.number, owed + buffer, day, f"demo-{b.number}-{day}")
            b.paid_periods += 1


def _due_dates(uow_factory: UnitOfWorkFactory, b: _Borrower) -> tuple[date, ...]:
    return tuple(
        date.fromisoformat(str(i["due_date"])) for i in show_loan(uow_factory, b.number)["schedule"]
    )


# -- the origination population: applicants, decisions and contracts across every scenario product --

#: a creditworthy synthetic applicant per scenario product: (request, scenario signals)
APPLICANT_TEMPLATES: dict[str, tuple[dict[str, Any], dict[str, object]]] = {
    "consumer-instalment": (
        {"amount": "20000", "term": 12, "method": "equal-installment"},
        {"monthly_income_yuan": 15000, "existing_monthly_debt_yuan": 1000},
    ),
    "bnpl": (
        {"amount": "3000", "term": 6, "method": "flat-fee"},
        {"ecom_gmv_12m_yuan": 30000, "ecom_months_active": 24},
    ),
    "travel-credit": (
        {"amount": "20000", "term": 12, "method": "equal-installment"},
        {
            "travel_mileage_km": 25000,
            "hotel_review_count": 12,
            "review_quality": Decimal("0.9"),
            "guide_count": 5,
            "guide_quality": Decimal("0.8"),
        },
    ),
    "medical-credit": (
        {"amount": "15000", "term": 12, "method": "equal-installment"},
        {
            "treatment_plan_amount_yuan": 18000,
            "current_dpd": 0,
            "late_instalments_24m": 0,
            "max_dpd_24m": 0,
            "ontime_instalments": 12,
        },
    ),
    "sme-turnover": (
        {"amount": "50000", "term": 6, "method": "equal-installment", "segment": "business"},
        {
            "pos_monthly_sales_yuan": 80000,
            "delivery_monthly_orders": 1200,
            "history_days": 720,
            "season_index": Decimal("1.0"),
            "turnover_4w_yuan": 76000,
            "turnover_4w_norm_yuan": 75000,
        },
    ),
    "carbon-credit": (
        {"amount": "10000", "term": 12, "method": "equal-installment"},
        {"carbon_tonnes_verified": 12, "nev_months_owned": 18},
    ),
    "supply-chain-line": (
        {"amount": "200000", "term": 12, "method": "interest-only", "segment": "farmer"},
        {"coop_member_years": 3, "offtake_contract_yuan": 300000, "planted_mu": 80},
    ),
    "credit-repair": (
        {"amount": "5000", "term": 12, "method": "equal-installment", "region": "110000"},
        {"current_dpd": 0, "internal_overdue_records": 1, "ontime_months_consecutive": 14},
    ),
}

#: the licensed credit-reporting channel synthetic applicants consent third-party data through
DEMO_CHANNEL = "baihang"


def application_for(
    product_code: str,
    subject: str,
    features: Mapping[str, object],
    **overrides: object,
) -> dict[str, object]:
    """A synthetic application for ``product_code`` (the template, then ``overrides``)."""
    request, signals = APPLICANT_TEMPLATES[product_code]
    return {
        "subject": subject,
        "product_code": product_code,
        "age": 35,
        "monthly_income": "15000",
        "monthly_debt": "1000",
        "device_id": f"{subject}-phone",
        # one address per synthetic applicant (a shared one is exactly what the IP-farm rule blocks)
        "ip": "10.{}.{}.{}".format(*hashlib.sha256(subject.encode()).digest()[:3]),
        "features": dict(features),
        "signals": {k: str(v) for k, v in signals.items()},
        **request,
        **overrides,
    }


def consent_all(o: Origination, subject: str, product_code: str) -> None:
    """Every consent the product needs: separate for sensitive data, licensed channel for
    third-party data."""
    for s in o.catalogue.get(product_code).data_sources:
        give_consent(
            o,
            subject,
            s.name,
            purpose=s.purpose,
            separate=s.category == "sensitive",
            channel=DEMO_CHANNEL if s.third_party else None,
        )


def complete_lesson(
    o: Origination, clock: FixedClock, app_ref: str, *, seconds: int | None = None
) -> dict[str, Any]:
    """Watch the product's lesson for ``seconds`` (default: its length) of the server's (fixed)
    clock and answer the quiz correctly."""
    lesson = start_lesson(o, app_ref)
    clock.advance(
        timedelta(seconds=seconds if seconds is not None else lesson["min_watch_seconds"])
    )
    product = o.catalogue.get(application_view(o, app_ref)["product_code"])
    return finish_lesson(o, app_ref, [q.answer for q in product.education.quiz])


def feature_pool(scorer: CreditScorer) -> dict[str, list[dict[str, object]]]:
    """Rows of the bundled German-credit data (a public dataset) as applicants' bureau features,
    split by the champion model's PD (with and without sensitive-data consent) into good (≤ 0.3),
    grey (0.5–0.6] and bad (> 0.6)."""
    from xindai.scoring.frame import read_table
    from xindai.scoring.paths import dataset_file

    rows = read_table(dataset_file("german_credit/germancredit.csv", "german_credit.csv.gz"))
    pool: dict[str, list[dict[str, object]]] = {"good": [], "grey": [], "bad": []}
    for raw in rows.drop(columns=["creditability"]).to_dict("records"):
        row = {
            str(k): (int(v) if isinstance(v, int | float) and float(v).is_integer() else v)
            for k, v in raw.items()
        }
        # with and without the separate consent that lets the sensitive savings feature count
        pds = [scorer.score(row, consent_sensitive=c)[0] for c in (True, False)]
        if max(pds) <= 0.3:
            pool["good"].append(row)
        elif min(pds) > 0.5 and max(pds) <= 0.6:
            pool["grey"].append(row)
        elif min(pds) > 0.6:
            pool["bad"].append(row)
    return pool


_PROFILES = ("good", "good", "good", "good", "bad", "grey", "grey", "no-consent")


def seed_population(
    o: Origination, clock: FixedClock, *, per_product: int = 8, seed: int = 7
) -> dict[str, Any]:
    """Synthetic applicants for every scenario product through the real pipeline: approvals
    (accepted, disbursed or a staged line opened), declines with reasons, referrals (some resolved
    by an analyst), refusals for a missing consent. Returns counts by status."""
    rng = random.Random(seed)
    pool = feature_pool(o.scorers[o.config.default_model])
    by_status: dict[str, int] = {}
    for product in o.catalogue.all():
        if product.code not in APPLICANT_TEMPLATES:
            continue
        for n in range(per_product):
            profile = _PROFILES[n % len(_PROFILES)]
            subject = f"{SYNTHETIC_TAG}-{product.code}-{n:03d}"
            features = rng.choice(
                pool["bad" if profile == "bad" else "grey" if profile == "grey" else "good"]
            )
            app = submit_application(o, application_for(product.code, subject, features))
            if profile != "no-consent":
                consent_all(o, subject, product.code)
            complete_lesson(o, clock, app["id"])
            view = decide(o, app["id"])
            if view["status"] == "offered" and rng.random() < 0.85:
                offer = view["offer"]
                accept_offer(
                    o,
                    app["id"],
                    signer=subject,
                    terms_sha256=offer["terms_sha256"],
                    evidence={"synthetic": True},
                )
                view = disburse_application(o, app["id"])
            elif view["status"] == "declined" and profile == "bad" and len(by_status) % 2:
                # the borrower refuses the automated decision (PIPL Art. 24): a human looks again
                request_review(o, app["id"], "synthetic: the borrower asks for a human review")
                view = application_view(o, app["id"])
            elif view["status"] == "referred" and n % len(_PROFILES) == 6:
                review = next(r for r in list_reviews(o) if r["application"] == view["number"])
                view = resolve_review(
                    o,
                    review["review"],
                    analyst="demo-analyst",
                    resolution="approve",
                    note="synthetic review",
                )
            clock.advance(timedelta(minutes=7))
            by_status[view["status"]] = by_status.get(view["status"], 0) + 1
    return {"applications": sum(by_status.values()), "by_status": by_status, "synthetic": True}


def seed_population_on(
    build: Callable[..., Origination], day: date, *, per_product: int = 8, seed: int = 7
) -> dict[str, Any]:
    """``seed_population`` on business date ``day`` (10:00 in Beijing) with a fixed server clock:
    ``build(clock=…)`` returns the platform's origination services on that clock."""
    clock = FixedClock(datetime.combine(day, time(2, 0), tzinfo=UTC))
    return seed_population(build(clock=clock), clock, per_product=per_product, seed=seed)
