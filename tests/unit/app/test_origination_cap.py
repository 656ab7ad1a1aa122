"""Property: no combination of a scenario product's grid, fees and discounts prices an offer above
the 24% all-in cap, measured by the IRR method on the servicing core's own schedule."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from xindai.app.servicing import OpenLoan, ensure_offer_within_cap, offer_quote
from xindai.compliance.caps import disclosed
from xindai.products.catalogue import GRADES, load_catalogue
from xindai.products.loan_product import load_catalogue as load_loan_products

CATALOGUE = load_catalogue()
LOAN_PRODUCTS = load_loan_products()
CAP = Decimal("0.24")


@st.composite
def offers(draw: st.DrawFn) -> tuple[OpenLoan, str]:
    p = draw(st.sampled_from(CATALOGUE.all()))
    lp = LOAN_PRODUCTS[p.loan_product]
    grade = draw(st.sampled_from(GRADES))
    term = draw(st.sampled_from(p.terms))
    method = draw(st.sampled_from(p.methods))
    codes = draw(st.permutations(sorted(p.discounts)))
    discounts = codes[: draw(st.integers(0, len(codes)))]
    pricing = p.price(grade, term, discounts)
    principal = draw(st.integers(lp.min_principal, min(lp.max_principal, 20_000_000)))
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 800)))
    cmd = OpenLoan(
        product_code=lp.code,
        principal=principal,
        term=term,
        method=method,
        annual_rate=pricing.annual_rate,
        start_date=start,
    )
    return cmd, p.code


@given(offers())
def test_no_grid_fee_discount_combination_exceeds_the_cap(offer: tuple[OpenLoan, str]) -> None:
    cmd, _code = offer
    lp = LOAN_PRODUCTS[cmd.product_code]
    quote = offer_quote(cmd, lp)
    assert quote.within_cap
    assert disclosed(quote.apr.apr_simple) <= CAP
    ensure_offer_within_cap(cmd, lp)  # the check every contract passes


def test_the_dearest_cell_of_every_grid_is_within_the_cap() -> None:
    for p in CATALOGUE.all():
        lp = LOAN_PRODUCTS[p.loan_product]
        for grade in GRADES:
            for term in p.terms:
                for method in p.methods:
                    cmd = OpenLoan(
                        product_code=lp.code,
                        principal=lp.min_principal,
                        term=term,
                        method=method,
                        annual_rate=p.price(grade, term).annual_rate,
                        start_date=date(2026, 11, 27),
                    )
                    assert disclosed(offer_quote(cmd, lp).apr.apr_simple) <= CAP, (
                        p.code,
                        grade,
                        term,
                    )
