"""End to end through the real pipeline, per scenario product, on SQLite and PostgreSQL:
approve (offer APR = the servicing core's quote of the contract, never above 24%, accepted with a
signature over the frozen terms, disbursed or a staged line opened), decline with reasons in both
languages, refer to the review queue (an analyst approves → offer)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.conftest import BACKENDS
from xindai.app.demo import APPLICANT_TEMPLATES, application_for, complete_lesson, consent_all
from xindai.app.origination import (
    Origination,
    accept_offer,
    audit_trail,
    decide,
    disburse_application,
    explain,
    list_reviews,
    resolve_review,
    submit_application,
    terms_hash,
)
from xindai.app.quoting import quote_to_dict
from xindai.app.servicing import OpenLoan, offer_quote, show_loan
from xindai.kernel.clock import FixedClock
from xindai.money.money import parse_yuan

PRODUCTS = sorted(APPLICANT_TEMPLATES)


def _ready(
    o: Origination, clock: FixedClock, code: str, subject: str, features: dict[str, object]
) -> str:
    app = submit_application(o, application_for(code, subject, features))
    consent_all(o, subject, code)
    complete_lesson(o, clock, app["id"])
    return str(app["id"])


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("code", PRODUCTS)
def test_approve_decline_refer(
    orig: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]], code: str
) -> None:
    # -- approve → offer → signature → contract → disbursement
    app_id = _ready(orig, clock, code, f"good-{code}", pool["good"][0])
    view = decide(orig, app_id)
    assert view["status"] == "offered", view["decision"]["reasons"]
    offer = view["offer"]
    terms = offer["terms"]
    assert Decimal(terms["apr_simple"]) <= Decimal("0.24")
    assert terms["disclosure_zh"].startswith("年化利率（单利）")
    assert {f["fee"] for f in terms["fees"]} >= {
        "monthly_fee",
        "upfront_fee",
        "prepayment_fee",
        "late_fee",
    }
    assert terms_hash(terms) == offer["terms_sha256"]
    if code == "medical-credit":  # an on-time record earns priority registration at the next visit
        assert [k["code"] for k in terms["perks"]] == ["priority-registration"]
    # the offer's APR is the servicing core's quote of the same contract
    lp = orig.products[terms["loan_product"]]
    contract = OpenLoan(
        product_code=lp.code,
        principal=parse_yuan(terms["amount"]),
        term=terms["term"],
        method=terms["method"],
        annual_rate=Decimal(terms["annual_rate"]),
        start_date=clock.today(),
    )
    q = quote_to_dict(offer_quote(contract, lp))
    assert (q["apr_simple"], q["apr_compound"], q["total_cost"]) == (
        terms["apr_simple"],
        terms["apr_compound"],
        terms["total_cost"],
    )
    view = accept_offer(orig, app_id, signer=f"good-{code}", terms_sha256=offer["terms_sha256"])
    assert view["status"] == "contracted" and view["signature"]["signer"] == f"good-{code}"
    view = disburse_application(orig, app_id)
    loan = show_loan(orig.uow, str(view["loan_id"]))
    if lp.multi_tranche:
        assert view["status"] == "line-open" and loan["status"] == "contracted"
        assert terms["stages"], "a staged line lists its stages"
    else:
        assert view["status"] == "disbursed" and loan["status"] == "active"
        assert loan["disbursed"] == terms["amount"]
    steps = [s["step"] for s in audit_trail(orig, app_id)]
    for step in ("consent", "education", "anti-fraud", "credit-score", "policy", "decision", "offer",
                 "acceptance", "contract", "disbursement"):  # fmt: skip
        assert step in steps

    # -- decline with reasons in zh-CN and English
    app_id = _ready(orig, clock, code, f"bad-{code}", pool["bad"][0])
    view = decide(orig, app_id)
    assert view["status"] == "declined" and view["offer"] is None
    reasons = view["decision"]["reasons"]
    assert reasons and all(r["zh"] and r["en"] for r in reasons)
    why = explain(orig, app_id)
    assert why["outcome"] == "decline" and why["score_factors"]

    # -- refer → review queue → analyst approves → offer
    app_id = _ready(orig, clock, code, f"grey-{code}", pool["grey"][0])
    view = decide(orig, app_id)
    assert view["status"] == "referred", view["decision"]["reasons"]
    item = next(r for r in list_reviews(orig) if r["application"] == view["number"])
    view = resolve_review(
        orig, item["review"], analyst="analyst-1", resolution="approve", note="checked"
    )
    assert view["status"] == "offered" and view["decision"]["automated"] is False
    assert view["offer"]["terms"]["grade"] == "E"


@pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
def test_signals_not_brought_are_fetched_from_the_feed_and_health_data_is_dropped(
    orig: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]]
) -> None:
    app = submit_application(
        orig, {**application_for("medical-credit", "feed-1", pool["good"][0]), "signals": {}}
    )
    consent_all(orig, "feed-1", "medical-credit")
    complete_lesson(orig, clock, app["id"])
    view = decide(orig, app["id"])
    fetched = next(s for s in audit_trail(orig, app["id"]) if s["step"] == "signals")
    assert fetched["detail"]["families"] == ["medical", "repayment"]
    assert all(p.startswith("synthetic:") for p in fetched["detail"]["provenance"])
    assert "treatment_plan_amount_yuan" in fetched["detail"]["fetched"]
    # the hospital feed carries a diagnosis code: it never reaches the application
    assert "diagnosis_code" not in fetched["detail"]["fetched"]
    with orig.uow() as uow:
        stored = uow.origination.get_application(app["id"])["payload"]["signals"]
    assert "diagnosis_code" not in stored and "treatment_department" not in stored
    assert view["status"] in ("offered", "declined", "referred")
    assert view["decision"]["reasons"] is not None
