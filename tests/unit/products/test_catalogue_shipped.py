"""The eight shipped scenario product files load, and the contract API behaves on them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from xindai.kernel.errors import NotFoundError, ValidationError
from xindai.products.catalogue import GRADES, load_catalogue
from xindai.products.loan_product import load_catalogue as load_loan_products

SHIPPED = {
    "consumer-instalment",
    "bnpl",
    "travel-credit",
    "medical-credit",
    "sme-turnover",
    "carbon-credit",
    "supply-chain-line",
    "credit-repair",
}
CAT = load_catalogue()


def test_every_shipped_file_loads() -> None:
    assert {p.code for p in CAT.all()} == SHIPPED
    loans = load_loan_products()
    for p in CAT.all():
        assert p.loan_product in loans
        assert p.name_zh and p.name_en
        assert p.education.min_watch_seconds >= 300
        assert p.education.quiz and 1 <= p.education.pass_mark <= len(p.education.quiz)
        assert set(p.terms) <= set(loans[p.loan_product].terms)
        assert set(p.grid) == set(GRADES)
        for grade in GRADES:
            assert set(p.grid[grade]) == set(p.terms)


def test_unknown_product_is_not_found() -> None:
    with pytest.raises(NotFoundError, match="nope"):
        CAT.get("nope")


def test_credit_repair_is_sandbox_only_with_pilot_regions() -> None:
    p = CAT.get("credit-repair")
    assert p.sandbox and p.regions is not None
    assert p.permits_region("110105")  # Beijing Chaoyang, under 110000
    assert p.permits_region("440305")  # Shenzhen Nanshan, under 440300
    assert not p.permits_region("440605")  # Foshan: Guangdong, but not a pilot city
    others = [q for q in CAT.all() if q.code != "credit-repair"]
    assert all(not q.sandbox and q.regions is None for q in others)
    fails = p.eligibility_failures(
        age=30,
        segment="consumer",
        region="440605",
        signals={"current_dpd": 0},
    )
    assert [r.code for r in fails] == ["region"]


def test_data_sources_declare_category_and_third_party() -> None:
    consumer = CAT.get("consumer-instalment")
    assert {(s.name, s.category) for s in consumer.data_sources} == {
        ("income-proof", "sensitive"),
        ("credit-bureau", "sensitive"),
    }
    assert all(s.third_party for s in CAT.get("travel-credit").data_sources)


def test_price_applies_discounts_down_to_the_floor_and_names_bad_input() -> None:
    p = CAT.get("consumer-instalment")
    priced = p.price("C", 12, ["autopay", "new-customer"])
    assert priced.grid_rate == Decimal("0.1250")
    assert priced.annual_rate == Decimal("0.1175")
    assert priced.discounts_applied == (
        ("autopay", Decimal("0.0025")),
        ("new-customer", Decimal("0.0050")),
    )
    floor = p.price("A", 3, ["new-customer"])  # 7.20% is the loan product's minimum
    assert floor.annual_rate == Decimal("0.0720")
    assert floor.discounts_applied == (("new-customer", Decimal("0")),)
    with pytest.raises(ValidationError) as err:
        p.price("F", 12)
    assert err.value.field == "grade"
    with pytest.raises(ValidationError) as err:
        p.price("A", 18)
    assert err.value.field == "term"
    with pytest.raises(ValidationError) as err:
        p.price("A", 12, ["coupon"])
    assert err.value.field == "discounts"


def test_travel_rate_is_seventy_percent_of_the_general_product() -> None:
    travel, general = CAT.get("travel-credit"), CAT.get("consumer-instalment")
    assert travel.priced_relative_to == ("consumer-instalment", Decimal("0.7"))
    for grade in GRADES:
        for term in travel.terms:
            assert travel.price(grade, term).annual_rate == general.price(
                grade, term
            ).annual_rate * Decimal("0.7")


def test_supply_chain_stages_split_the_published_line_exactly() -> None:
    p = CAT.get("supply-chain-line")
    assert p.stage_amounts(20_000_000) == (
        ("sowing", 5_000_000),
        ("growing", 8_000_000),
        ("harvest", 7_000_000),
    )
    assert sum(a for _, a in p.stage_amounts(12_345_67)) == 12_345_67


def test_bnpl_is_scored_by_the_champion_model() -> None:
    assert CAT.get("bnpl").score_model == "champion"


def test_regions_accept_codes_and_names_and_cover_their_districts() -> None:
    from xindai.products.catalogue.regions import covers, normalise_region, region_name

    assert normalise_region("北京") == normalise_region("Beijing") == "110000"
    assert normalise_region("雄安新区") == "133100"
    assert normalise_region(440300) == "440300"
    assert region_name("440300") == ("深圳市", "Shenzhen")
    assert covers("110000", "110105") and covers("440300", "440305")
    assert not covers("440300", "440106") and covers("330106", "330106")
    with pytest.raises(ValidationError) as err:
        normalise_region("Gotham", "regions[2]")
    assert err.value.field == "regions[2]"
