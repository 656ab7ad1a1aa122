"""Policy on a real database (SQLite and PostgreSQL): the 200,000 CNY household cap counts every
open consumer loan of the household's members — however it was opened — and debt-to-income."""

from __future__ import annotations

from datetime import date

import pytest

from tests.integration.conftest import BACKENDS
from xindai.app.demo import application_for, complete_lesson, consent_all
from xindai.app.origination import Origination, decide, submit_application
from xindai.app.servicing import OpenLoan, open_loan
from xindai.kernel.clock import FixedClock
from xindai.money.money import parse_yuan

pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)


def _decide(
    o: Origination, clock: FixedClock, subject: str, features: dict[str, object], **kw: object
) -> dict[str, object]:
    app = submit_application(o, application_for("consumer-instalment", subject, features, **kw))
    consent_all(o, subject, "consumer-instalment")
    complete_lesson(o, clock, app["id"])
    return decide(o, app["id"])


def test_household_cap_counts_the_households_open_consumer_loans(
    orig: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]]
) -> None:
    good = pool["good"][0]
    # a household member applied earlier (so the platform knows the household) and holds a
    # 185,000 CNY consumer loan opened directly by servicing
    first = _decide(orig, clock, "hh-a", good, household="family-1", amount="1000")
    assert first["status"] == "offered"
    open_loan(
        orig.uow,
        orig.products,
        OpenLoan(
            product_code="consumer-instalment",
            principal=parse_yuan("185000"),
            term=36,
            method="equal-installment",
            annual_rate=orig.products["consumer-instalment"].annual_rate,
            start_date=date(2026, 11, 1),
            borrower_ref="hh-a",
        ),
    )
    # a business line of the same member does not count towards the consumer cap
    open_loan(
        orig.uow,
        orig.products,
        OpenLoan(
            product_code="sme-turnover-line",
            principal=parse_yuan("500000"),
            term=12,
            method="interest-only",
            annual_rate=orig.products["sme-turnover-line"].annual_rate,
            start_date=date(2026, 11, 1),
            borrower_ref="hh-a",
        ),
    )
    over = _decide(orig, clock, "hh-b", good, household="family-1", amount="20000")
    assert over["status"] == "declined"
    reason = next(r for r in over["decision"]["reasons"] if r["code"] == "household-cap")
    assert "205000.00" in reason["en"] and "15000.00" in reason["en"]
    within = _decide(orig, clock, "hh-c", good, household="family-1", amount="15000")
    assert within["status"] == "offered", within["decision"]["reasons"]
    elsewhere = _decide(orig, clock, "hh-d", good, household="family-2", amount="20000")
    assert elsewhere["status"] == "offered"


def test_debt_to_income(
    orig: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]]
) -> None:
    view = _decide(
        orig, clock, "dti-1", pool["good"][0], monthly_income="3000", monthly_debt="1000"
    )
    assert view["status"] == "declined"
    assert [r["code"] for r in view["decision"]["reasons"]] == ["debt-to-income"]
