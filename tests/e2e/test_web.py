"""The borrower's web pages through the real site (API + pages), without a browser.

Checks what a borrower relies on: zh-CN by default, English on request, the calculator's 年化利率
equal to the API quote, bad input naming the field, and loans found only by number or UUID.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from xindai.app.demo import seed_demo
from xindai.bootstrap import Platform, bootstrap, upgrade_database
from xindai.server import create_app
from xindai.web import i18n


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Platform]]:
    path: Path = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{path}/web.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    seed_demo(platform.uow, platform.products, loans=12)
    with TestClient(create_app(platform)) as c:
        yield c, platform
    platform.close()


def test_every_text_in_both_languages() -> None:
    tables = (
        i18n.TEXTS,
        i18n.STATUS,
        i18n.METHODS,
        i18n.BALANCES,
        i18n.OUTCOMES,
        i18n.PIPELINE_STEPS,
    )
    for table in (*tables, i18n.PURPOSES, i18n.SEGMENTS, i18n.NODES):
        for key, texts in table.items():
            assert set(texts) == set(i18n.LANGS), key


def test_front_door_and_home_in_chinese_then_english(site: tuple[TestClient, Platform]) -> None:
    client, platform = site
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/web"
    page = client.get("/web").text
    assert '<html lang="zh-CN">' in page and "借款试算" in page
    for product in platform.products.values():
        assert product.name_zh in page
    english = client.get("/web?lang=en").text
    assert '<html lang="en">' in english and "Loan calculator" in english


def test_calculator_discloses_the_api_apr(site: tuple[TestClient, Platform]) -> None:
    client, _ = site
    params = {
        "principal": "10000",
        "term": "12",
        "method": "equal-installment",
        "annual_rate": "0.12",
        "monthly_fee_rate": "0.005",
        "start_date": "2026-01-15",
    }
    page = client.get("/web/quote", params=params)
    assert page.status_code == 200
    api = client.post("/v1/quotes", json={**params, "term": 12}).json()
    assert f'data-apr="{api["apr_simple"]}"' in page.text
    assert api["total_cost"] in page.text and "年化利率（单利）" in page.text
    assert page.text.count("<tr><td>") >= 12 + 4  # twelve instalments and the totals


@pytest.mark.parametrize(
    ("change", "field", "label"),
    [
        ({"principal": "abc"}, "principal", "借款金额"),
        ({"term": "0"}, "term", "期数"),
        ({"annual_rate": "0.30"}, "annual_rate", "合同年利率"),
        ({"start_date": "2026/01/15"}, "start_date", "放款日期"),
    ],
)
def test_calculator_names_the_bad_field(
    site: tuple[TestClient, Platform], change: dict[str, str], field: str, label: str
) -> None:
    client, _ = site
    params = {"principal": "10000", "term": "12", "method": "equal-installment"}
    params |= {"annual_rate": "0.12", "start_date": "2026-01-15"} | change
    page = client.get("/web/quote", params=params)
    assert page.status_code == 422
    assert f'data-field="{field}"' in page.text and label in page.text
    assert 'id="quote-result"' not in page.text


def test_loan_page_by_number_not_by_internal_id(site: tuple[TestClient, Platform]) -> None:
    client, platform = site
    with platform.uow() as uow:
        loan = uow.loans.get(1)
    view = client.get(f"/web/loans/{loan.number}")
    assert view.status_code == 200 and loan.number in view.text and "还款计划" in view.text
    assert client.get("/web/loans/1").status_code == 404
    assert "未找到该借款" in client.get("/web/loans/XD000000000000").text
    found = client.get("/web/loans", params={"ref": f" {loan.number} "}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"].startswith(
        f"/web/loans/{loan.number}"
    )
