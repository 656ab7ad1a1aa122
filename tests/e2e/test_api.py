"""The HTTP API through the real app factory: quotes, loans, idempotency and error mapping."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from xindai.api.app import create_app
from xindai.app.servicing import OpenLoan, ensure_offer_within_cap
from xindai.bootstrap import bootstrap, upgrade_database
from xindai.kernel.errors import ValidationError
from xindai.products.loan_product import load_catalogue


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path}/api.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    with TestClient(create_app(platform)) as c:
        yield c
    platform.close()


QUOTE = {
    "principal": "10000",
    "term": 12,
    "method": "equal-installment",
    "annual_rate": "0.12",
    "start_date": "2026-01-15",
}


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
    spec = client.get("/openapi.json").json()
    assert "/v1/quotes" in spec["paths"] and "/v1/loans/{loan_id}" in spec["paths"]


def test_quote(client: TestClient) -> None:
    r = client.post("/v1/quotes", json=QUOTE)
    assert r.status_code == 200
    assert r.json()["apr_simple"] == "0.1200"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"principal": "-1"}, "principal"),
        ({"term": 0}, "term"),
        ({"method": "x"}, "method"),
        ({"start_date": "15/01/2026"}, "start_date"),
        ({"annual_rate": "0.3"}, "annual_rate"),
    ],
)
def test_quote_bad_input_names_the_field(
    client: TestClient, change: dict[str, object], field: str
) -> None:
    r = client.post("/v1/quotes", json={**QUOTE, **change})
    assert r.status_code == 422
    assert r.json()["field"] == field


def test_float_money_is_refused(client: TestClient) -> None:
    r = client.post("/v1/quotes", json={**QUOTE, "principal": 10000.5})
    assert r.status_code == 422


def test_loan_lifecycle_over_http(client: TestClient) -> None:
    created = client.post(
        "/v1/loans",
        json={
            "product_code": "consumer-instalment",
            "principal": "10000",
            "term": 12,
            "method": "equal-installment",
            "annual_rate": "0.12",
            "start_date": "2026-01-15",
        },
    )
    assert created.status_code == 201
    loan_id = created.json()["id"]
    d = client.post(
        f"/v1/loans/{loan_id}/disbursements",
        json={"amount": "10000", "on": "2026-01-15"},
        headers={"Idempotency-Key": "d-1"},
    )
    assert d.status_code == 200 and d.json()["replayed"] is False
    pay = {"amount": "888.49", "on": "2026-02-15"}
    first = client.post(
        f"/v1/loans/{loan_id}/repayments", json=pay, headers={"Idempotency-Key": "r-1"}
    )
    again = client.post(
        f"/v1/loans/{loan_id}/repayments", json=pay, headers={"Idempotency-Key": "r-1"}
    )
    assert (
        first.json()["allocation"] == again.json()["allocation"]
        and again.json()["replayed"] is True
    )
    view = client.get(f"/v1/loans/{loan_id}").json()
    assert view["balances"]["principal_receivable"] == "9211.51" and len(view["schedule"]) == 12
    assert client.post(f"/v1/loans/{loan_id}/repayments", json=pay).status_code == 422  # no key
    reused = client.post(
        f"/v1/loans/{loan_id}/prepayments", json=pay, headers={"Idempotency-Key": "r-1"}
    )
    assert reused.status_code == 409
    assert client.get("/v1/loans/00000000-0000-0000-0000-000000000000").status_code == 404


def test_an_offer_above_the_all_in_cap_is_refused(client: TestClient) -> None:
    ok = client.post(
        "/v1/loans",
        json={
            "product_code": "consumer-instalment",
            "principal": "10000",
            "term": 12,
            "method": "equal-installment",
            "annual_rate": "0.18",
            "start_date": "2026-01-15",
        },
    )
    assert ok.status_code == 201  # 18% 等额本息 is within the 24% all-in cap
    # a BNPL plan at 1.5% a month flat is far above it (≈ 33% APR), whatever the product file says
    heavy = dataclasses.replace(
        load_catalogue()["bnpl-flat-fee"], monthly_fee_rate=Decimal("0.015")
    )
    offer = OpenLoan("bnpl-flat-fee", 600_000, 6, "flat-fee", Decimal("0"), date(2026, 1, 15))
    with pytest.raises(ValidationError) as err:
        ensure_offer_within_cap(offer, heavy)
    assert err.value.field == "monthly_fee_rate" and "cap" in err.value.reason
