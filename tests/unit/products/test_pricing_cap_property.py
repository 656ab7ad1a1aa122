"""Property: no grade × term × discount combination prices above the all-in cap.

Two layers: (1) over the shipped catalogue, every combination's nominal rate + fee-equivalent rate
is within the cap and discounts never push the rate below the loan product's floor; (2) over
*generated* product files (random grids and fees), the loader accepts a file only if every cell
is within the cap — so no accepted file can ever price above it. The fee-equivalent rate is
checked to be conservative against the IRR APR the servicing core's quote computes.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date
from decimal import Decimal

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from xindai.app.quoting import QuoteRequest, build_quote
from xindai.products.catalogue import (
    GRADES,
    fee_equivalent_rate,
    load_catalogue,
    parse_files,
    shipped_files_dir,
)
from xindai.products.loan_product import load_catalogue as load_loan_products
from xindai.servicing.schedule import RepaymentMethod

CAP = Decimal("0.24")
CAT = load_catalogue()
LOANS = load_loan_products()
PRODUCTS = CAT.all()
FILES = {p.name: p.read_text(encoding="utf-8") for p in shipped_files_dir().glob("*.yaml")}
BNPL = yaml.safe_load(FILES["bnpl.yaml"])


@st.composite
def offers(draw: st.DrawFn) -> tuple[str, str, int, list[str]]:
    p = draw(st.sampled_from(PRODUCTS))
    grade = draw(st.sampled_from(GRADES))
    term = draw(st.sampled_from(p.terms))
    codes = draw(st.lists(st.sampled_from(sorted(p.discounts)), unique=True)) if p.discounts else []
    return p.code, grade, term, codes


@settings(max_examples=300, deadline=None)
@given(offers())
def test_no_shipped_combination_exceeds_the_cap(offer: tuple[str, str, int, list[str]]) -> None:
    code, grade, term, discounts = offer
    p = CAT.get(code)
    priced = p.price(grade, term, discounts)
    loan = LOANS[p.loan_product]
    assert priced.all_in_estimate <= min(CAP, loan.all_in_cap)
    assert loan.min_rate <= priced.annual_rate <= priced.grid_rate <= loan.max_rate
    assert priced.grid_rate - priced.annual_rate <= p.max_total_discount
    assert priced.fees.monthly_rate == loan.monthly_fee_rate  # what servicing will charge


rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("0.30"), places=4)


@settings(max_examples=60, deadline=None)
@given(
    fee=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.02"), places=4),
    grid=st.lists(rates, min_size=15, max_size=15),
)
def test_the_loader_accepts_a_file_only_if_every_cell_is_within_the_cap(
    fee: Decimal, grid: list[Decimal]
) -> None:
    loans = dict(LOANS)
    loans["bnpl-flat-fee"] = replace(
        LOANS["bnpl-flat-fee"], monthly_fee_rate=fee, min_rate=Decimal(0), max_rate=Decimal("0.30")
    )
    doc = copy.deepcopy(BNPL)
    doc["fees"]["monthly_rate"] = str(fee)
    cells = iter(grid)
    doc["pricing"]["grid"] = {g: {t: str(next(cells)) for t in (3, 6, 12)} for g in GRADES}
    text = yaml.safe_dump(doc, allow_unicode=True)
    products, findings = parse_files({"bnpl.yaml": text}, loans)
    breaches = {
        f"pricing.grid.{g}.{t}"
        for g in GRADES
        for t in (3, 6, 12)
        if Decimal(doc["pricing"]["grid"][g][t]) + fee_equivalent_rate(products["bnpl"].fees, t)
        > CAP
    }
    assert {f.field for f in findings if "all-in cap" in f.reason} == breaches
    if not findings:
        p = products["bnpl"]
        for g in GRADES:
            for t in p.terms:
                assert p.price(g, t).all_in_estimate <= CAP


@settings(max_examples=40, deadline=None)
@given(
    fee=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.012"), places=4),
    rate=st.decimals(min_value=Decimal("0"), max_value=Decimal("0.12"), places=4),
    term=st.sampled_from([3, 6, 12, 24, 36]),
    method=st.sampled_from(
        [
            RepaymentMethod.EQUAL_INSTALLMENT,
            RepaymentMethod.EQUAL_PRINCIPAL,
            RepaymentMethod.FLAT_FEE,
        ]
    ),
)
def test_the_fee_equivalent_rate_never_understates_the_irr_apr(
    fee: Decimal, rate: Decimal, term: int, method: RepaymentMethod
) -> None:
    from xindai.products.catalogue import Fees

    quote = build_quote(
        QuoteRequest(
            principal=10_000_00,
            term=term,
            method=method,
            annual_rate=rate,
            monthly_fee_rate=fee,
            start_date=date(2025, 1, 1),
        )
    )
    estimate = rate + fee_equivalent_rate(Fees(monthly_rate=fee), term)
    # the IRR of fen-rounded instalments can sit a hair above the exact figure: 1 bp tolerance
    assert quote.apr.apr_simple <= estimate + Decimal("0.0001")
