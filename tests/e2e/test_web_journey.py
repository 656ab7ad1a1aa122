"""The borrower's application journey, the fund-flow page and the staff review queue through the
real site (API + pages) and the real origination pipeline, without a browser.

Covers every page and every refusal a borrower or an analyst can meet: CSRF missing → 403; no
consent → the page names it; a sensitive source ticked only in the bundle → named, nothing stored;
the lesson skipped or cut short → refused by the server's clock; bad input → 422 naming the field;
another identity → 404; the offer's figures equal the API's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from xindai.app.origination import ModelScorer
from xindai.app.supply_chain import FARM_MEMBERS, run_farm_demo
from xindai.bootstrap import Platform, bootstrap, ensure_champion, upgrade_database
from xindai.chain.demo import demo_key
from xindai.chain.merkle import leaf_hash, verify_inclusion
from xindai.kernel.clock import FixedClock
from xindai.scoring.artefact import load_model
from xindai.server import create_app

Site = tuple[TestClient, Platform, FixedClock]
PRODUCT = "consumer-instalment"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path: Path = tmp_path_factory.mktemp("journey")
    url = f"sqlite:///{path}/journey.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    champion = ModelScorer("champion", load_model(ensure_champion(path / "registry")))
    clock = FixedClock(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    platform.origination(clock=clock, scorers={"champion": champion})
    keys = {name: demo_key(name) for name in FARM_MEMBERS}
    run_farm_demo(platform.uow, platform.products, platform.chain(), keys)
    with TestClient(create_app(platform)) as client:
        yield client, platform, clock
    platform.close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert found, "the form carries a CSRF token"
    return found.group(1)


def _post(client: TestClient, path: str, data: dict[str, Any], csrf: str | None) -> Any:
    body = {**data, "lang": data.get("lang", "zh-CN")}
    if csrf is not None:
        body["csrf_token"] = csrf
    return client.post(path, data=body, follow_redirects=False)


def _apply(client: TestClient, **changes: str) -> tuple[str, str]:
    """Apply for the product as the client's demo identity; return (application number, csrf)."""
    page = client.get(f"/web/products/{PRODUCT}")
    csrf = _csrf(page.text)
    form = {"amount": "20000", "term": "12", "method": "equal-installment", "age": "35"}
    form |= {"monthly_income": "15000", "monthly_debt": "1000"} | changes
    r = _post(client, f"/web/products/{PRODUCT}/apply", form, csrf)
    assert r.status_code == 303, r.text
    number = r.headers["location"].split("/")[3]
    assert r.headers["location"] == f"/web/applications/{number}/consent?lang=zh-CN"
    return number, csrf


def _consent_all(client: TestClient, number: str, csrf: str, platform: Platform) -> None:
    sources = platform.origination().catalogue.get(PRODUCT).data_sources
    data: dict[str, Any] = {
        "consent": [s.name for s in sources if s.category != "sensitive"],
        "sensitive": [s.name for s in sources if s.category == "sensitive"],
    }
    r = _post(client, f"/web/applications/{number}/consent", data, csrf)
    assert r.status_code == 303 and r.headers["location"].endswith("/lesson?lang=zh-CN")


def _answers(platform: Platform) -> dict[str, str]:
    quiz = platform.origination().catalogue.get(PRODUCT).education.quiz
    return {f"q{n}": str(q.answer) for n, q in enumerate(quiz)}


def _pass_lesson(site: Site, client: TestClient, number: str, csrf: str) -> None:
    _, platform, clock = site
    _post(client, f"/web/applications/{number}/lesson/start", {}, csrf)
    clock.advance(timedelta(seconds=300))
    r = _post(client, f"/web/applications/{number}/lesson/finish", _answers(platform), csrf)
    assert r.status_code == 303, r.text


def test_product_page_shows_what_the_borrower_needs(site: Site) -> None:
    client, platform, _ = site
    page = client.get(f"/web/products/{PRODUCT}")
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert "xindai_demo" in page.cookies and "演示身份" in page.text
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    p = platform.origination().catalogue.get(PRODUCT)
    for s in p.data_sources:
        assert s.label_zh in page.text
    assert "敏感个人信息" in page.text and "年化利率（单利）" in page.text
    low = re.search(r'id="apr-low">([0-9.]+)%', page.text)
    high = re.search(r'id="apr-high">([0-9.]+)%', page.text)
    assert low and high and 0 < float(low.group(1)) <= float(high.group(1)) <= 24
    english = client.get(f"/web/products/{PRODUCT}?lang=en").text
    assert p.name_en in english and "Who can apply" in english
    assert client.get("/web/products/no-such-product").status_code == 404
    home = client.get("/web").text
    assert f'href="/web/products/{PRODUCT}?lang=zh-CN"' in home


def test_every_product_page_and_application_form_works(site: Site) -> None:
    client, platform, _ = site
    for p in platform.origination().catalogue.all():
        for lang, name in (("zh-CN", p.name_zh), ("en", p.name_en)):
            page = client.get(f"/web/products/{p.code}?lang={lang}")
            assert page.status_code == 200 and name in page.text, (p.code, lang)
        form = {"amount": "3000", "term": str(p.terms[0]), "method": p.methods[0], "age": "40"}
        r = _post(client, f"/web/products/{p.code}/apply", form, _csrf(page.text))
        assert r.status_code == 303 and r.headers["location"].endswith("/consent?lang=zh-CN")


def test_every_post_needs_the_csrf_token(site: Site) -> None:
    client, _, _ = site
    number, csrf = _apply(client)
    form = {"amount": "20000", "term": "12", "age": "35"}
    assert _post(client, f"/web/products/{PRODUCT}/apply", form, None).status_code == 403
    assert _post(client, f"/web/products/{PRODUCT}/apply", form, "0" * 64).status_code == 403
    for path in ("consent", "lesson/start", "lesson/finish", "decision", "review", "sign"):
        r = _post(client, f"/web/applications/{number}/{path}", {}, None)
        assert r.status_code == 403, path
        assert "安全校验失败" in r.text
    assert _post(client, "/web/me", {"profile": "bad"}, None).status_code == 403
    assert _post(client, "/web/ops/reviews/x", {"analyst": "a"}, None).status_code == 403
    # a token is worthless for another identity
    other = TestClient(client.app)
    other.get("/web/me")
    assert _post(other, f"/web/applications/{number}/decision", {}, csrf).status_code == 403
    # not a URL-encoded form
    r = client.post(
        f"/web/applications/{number}/decision",
        json={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 400


@pytest.mark.parametrize(
    ("change", "field", "label"),
    [
        ({"amount": "abc"}, "amount", "申请金额"),
        ({"age": "x"}, "age", "年龄"),
        ({"age": "200"}, "age", "年龄"),
        ({"term": "7"}, "term", "期数"),
        ({"monthly_income": "-5"}, "monthly_income", "月收入"),
    ],
)
def test_bad_application_names_the_field(
    site: Site, change: dict[str, str], field: str, label: str
) -> None:
    client, _, _ = site
    page = client.get(f"/web/products/{PRODUCT}")
    form = {"amount": "20000", "term": "12", "method": "equal-installment", "age": "35"} | change
    r = _post(client, f"/web/products/{PRODUCT}/apply", form, _csrf(page.text))
    assert r.status_code == 422
    assert f'data-field="{field}"' in r.text and label in r.text
    assert f'value="{next(iter(change.values()))}"' in r.text or field == "term"
    assert r.text.count('aria-invalid="true"') == 1 and f'name="{field}"' in r.text


def test_refusals_name_the_consent_and_the_lesson(site: Site) -> None:
    site_client, platform, clock = site
    client = TestClient(site_client.app)
    number, csrf = _apply(client)
    o = platform.origination()
    p = o.catalogue.get(PRODUCT)
    # straight to a decision: refused, naming every missing consent
    r = _post(client, f"/web/applications/{number}/decision", {}, csrf)
    assert r.status_code == 303
    page = client.get(f"/web/applications/{number}").text
    assert 'data-status="refused"' in page
    for s in p.data_sources:
        assert s.label_zh in page
    # a sensitive source ticked only with the ordinary ones is not a separate consent
    ticks = {"consent": [s.name for s in p.data_sources]}
    r = _post(client, f"/web/applications/{number}/consent", ticks, csrf)
    assert r.status_code == 422 and 'id="consent-missing"' in r.text
    sensitive = [s for s in p.data_sources if s.category == "sensitive"]
    assert sensitive and all(f'<li data-source="{s.name}">' in r.text for s in sensitive)
    subject = client.get("/web/me").text.split('id="subject">')[1].split("<")[0]
    from xindai.app.origination import list_consents

    assert list_consents(o, subject) == []  # nothing recorded
    # the consent page ticks nothing in advance
    form = client.get(f"/web/applications/{number}/consent").text
    assert "checked" not in form
    _consent_all(client, number, csrf, platform)
    # the lesson skipped: refused by the education gate
    _post(client, f"/web/applications/{number}/decision", {}, csrf)
    page = client.get(f"/web/applications/{number}").text
    assert 'data-status="refused"' in page and "未完成金融知识学习课程" in page
    # the lesson cut short: the server's clock says no
    lesson = client.get(f"/web/applications/{number}/lesson").text
    assert 'id="start-lesson"' in lesson
    _post(client, f"/web/applications/{number}/lesson/start", {}, csrf)
    clock.advance(timedelta(seconds=120))
    lesson = client.get(f"/web/applications/{number}/lesson").text
    assert 'data-seconds="180"' in lesson
    r = _post(client, f"/web/applications/{number}/lesson/finish", _answers(platform), csrf)
    assert r.status_code == 422 and 'data-code="too-short"' in r.text
    clock.advance(timedelta(seconds=180))
    answers = _answers(platform)
    r = _post(client, f"/web/applications/{number}/lesson/finish", {"q0": answers["q0"]}, csrf)
    assert r.status_code == 422 and 'id="missing-answer" data-question="1"' in r.text
    outside = {**answers, "q1": "9"}
    r = _post(client, f"/web/applications/{number}/lesson/finish", outside, csrf)
    assert r.status_code == 422 and 'id="missing-answer" data-question="1"' in r.text
    wrong = {k: str(1 - int(v)) for k, v in answers.items()}
    r = _post(client, f"/web/applications/{number}/lesson/finish", wrong, csrf)
    assert r.status_code == 422 and 'data-code="quiz-failed"' in r.text
    r = _post(client, f"/web/applications/{number}/lesson/finish", answers, csrf)
    assert r.status_code == 303
    assert 'id="lesson-passed"' in client.get(f"/web/applications/{number}/lesson").text
    # another identity cannot see the application
    stranger = TestClient(site_client.app)
    assert stranger.get(f"/web/applications/{number}").status_code == 404
    assert stranger.get(f"/web/applications/{number}/offer").status_code == 404


def test_whole_journey_to_the_loan_with_the_api_figures(site: Site) -> None:
    site_client, platform, _ = site
    client = TestClient(site_client.app)
    number, csrf = _apply(client)
    consent = client.get(f"/web/applications/{number}/consent").text
    assert 'class="card sensitive"' in consent and 'id="withdraw-link"' in consent
    _consent_all(client, number, csrf, platform)
    _pass_lesson(site, client, number, csrf)
    r = _post(client, f"/web/applications/{number}/decision", {}, csrf)
    assert r.headers["location"] == f"/web/applications/{number}?lang=zh-CN"
    page = client.get(f"/web/applications/{number}").text
    assert 'data-status="offered"' in page, page
    why = client.get(f"/web/applications/{number}/why")
    assert why.status_code == 200 and 'data-outcome="approve"' in why.text
    assert "额度" in why.text and "审批步骤" in why.text
    offer = client.get(f"/web/applications/{number}/offer").text
    api = client.get(f"/v1/applications/{number}").json()["offer"]
    terms = api["terms"]
    assert f'data-apr="{terms["apr_simple"]}"' in offer
    assert f'data-apr="{terms["apr_compound"]}"' in offer
    for key in ("total_cost", "total_interest", "total_fees", "total_repayment", "amount"):
        assert terms[key] in offer, key
    for fee in terms["fees"]:
        assert f'data-fee="{fee["fee"]}"' in offer
    assert offer.count("<tr><td>") >= terms["term"] and api["terms_sha256"] in offer
    # signing needs the explicit confirmation, and the hash of the terms shown
    r = _post(client, f"/web/applications/{number}/sign", {"terms_sha256": "x"}, csrf)
    assert r.status_code == 422 and 'data-field="confirm"' in r.text
    bad = {"terms_sha256": "0" * 64, "confirm": "yes"}
    r = _post(client, f"/web/applications/{number}/sign", bad, csrf)
    assert r.status_code == 422 and 'data-field="terms_sha256"' in r.text
    assert client.get(f"/v1/applications/{number}").json()["status"] == "offered"
    good = {"terms_sha256": api["terms_sha256"], "confirm": "yes"}
    r = _post(client, f"/web/applications/{number}/sign", good, csrf)
    assert r.status_code == 303 and r.headers["location"].startswith("/web/loans/XD")
    loan = client.get(r.headers["location"])
    assert loan.status_code == 200 and 'data-status="active"' in loan.text
    assert client.get(f"/v1/applications/{number}").json()["status"] == "disbursed"
    # the payout's movements (platform → escrow → borrower) are on the fund-flow page, proven
    flow = client.get(r.headers["location"].split("?")[0] + "/fund-flow")
    assert flow.status_code == 200 and flow.text.count('<tr id="edge-') == 2, flow.text
    # signing twice: a clear 409 page, nothing changes
    r = _post(client, f"/web/applications/{number}/sign", good, csrf)
    assert r.status_code == 409 and 'data-status="409"' in r.text
    # the consents are listed and withdrawable in one click
    me = client.get("/web/me").text
    for s in platform.origination().catalogue.get(PRODUCT).data_sources:
        assert s.label_zh in me  # named as the product names it
    consent_id = re.findall(r'data-consent="([0-9a-f-]+)"', me)[0]
    r = _post(client, f"/web/me/consents/{consent_id}/withdraw", {}, csrf)
    assert r.status_code == 303
    assert "已撤回" in client.get("/web/me").text
    r = _post(client, f"/web/me/consents/{consent_id}/withdraw", {}, csrf)
    assert r.status_code == 404


def test_human_review_from_the_borrower_to_the_staff_console(site: Site) -> None:
    site_client, platform, _ = site
    client = TestClient(site_client.app)
    number, csrf = _apply(client, human_review="yes")
    _consent_all(client, number, csrf, platform)
    _pass_lesson(site, client, number, csrf)
    _post(client, f"/web/applications/{number}/decision", {}, csrf)
    page = client.get(f"/web/applications/{number}").text
    assert 'data-status="referred"' in page and "人工审核" in page
    ops = TestClient(site_client.app)
    queue = ops.get("/web/ops")
    assert queue.status_code == 200 and "员工后台" in queue.text
    review = re.search(rf'id="review-([0-9a-f-]+)" data-application="{number}"', queue.text)
    assert review
    path = f"/web/ops/reviews/{review.group(1)}"
    token = _csrf(queue.text)
    r = _post(ops, path, {"resolution": "decline", "analyst": ""}, token)
    assert r.status_code == 422 and 'data-field="analyst"' in r.text
    r = _post(ops, path, {"resolution": "decline", "analyst": "ops-1", "note": ""}, token)
    assert r.status_code == 422 and 'data-field="note"' in r.text
    assert client.get(f"/v1/applications/{number}").json()["status"] == "referred"
    r = _post(ops, path, {"resolution": "approve", "analyst": "ops-1", "note": "ok"}, token)
    assert r.status_code == 303
    page = client.get(f"/web/applications/{number}").text
    assert 'data-status="offered"' in page and "本决定由人工复核作出" in page
    # the borrower may still refuse it and ask for another human look
    r = _post(client, f"/web/applications/{number}/review", {"reason": "rate too high"}, csrf)
    assert r.status_code == 303
    page = client.get(f"/web/applications/{number}").text
    assert 'data-status="in-review"' in page and 'id="in-review"' in page
    assert number in ops.get("/web/ops").text
    r = _post(ops, path, {"resolution": "approve", "analyst": "ops-1"}, token)
    assert r.status_code == 409


def test_fund_flow_page_embeds_verifiable_proofs(site: Site) -> None:
    client, platform, _ = site
    line = platform.chain().ledger  # the farm line's loan is the only loan with movements
    del line
    with platform.uow() as uow:
        numbers = [uow.loans.get(i).number for i in (1,)]
    page = client.get(f"/web/loans/{numbers[0]}/fund-flow")
    assert page.status_code == 200 and 'id="flow-graph"' in page.text
    raw = page.text.split('<script type="application/json" id="flow-data">')[1]
    data = json.loads(raw.split("</script>")[0])
    assert data["edges"], "the farm line's money moved"
    api = client.get(f"/v1/loans/{numbers[0]}/fund-flow").json()
    assert [e["amount"] for e in data["edges"]] == [e["amount"] for e in api["edges"]]
    import base64

    root = base64.b64decode(data["checkpoint"]["root"])
    for edge in data["edges"]:
        entry = base64.b64decode(edge["entry"])
        proof = [base64.b64decode(p) for p in edge["proof"]]
        verify_inclusion(leaf_hash(entry), edge["index"], data["checkpoint"]["size"], proof, root)
        assert f'data-amount="{edge["amount"]}"' in page.text
    assert data["operator_vkey"] in page.text and "crypto.subtle" in page.text
    assert client.get("/web/loans/1/fund-flow").status_code == 404
    assert client.get("/web/loans/XD000000000000/fund-flow").status_code == 404


def test_a_high_risk_profile_is_declined_with_reasons_in_both_languages(site: Site) -> None:
    site_client, platform, _ = site
    client = TestClient(site_client.app)
    me = client.get("/web/me").text
    r = _post(client, "/web/me", {"profile": "bad", "action": "profile"}, _csrf(me))
    assert r.status_code == 303
    assert "合成档案：风险较高" in client.get("/web/me").text
    number, csrf = _apply(client)
    _consent_all(client, number, csrf, platform)
    _pass_lesson(site, client, number, csrf)
    _post(client, f"/web/applications/{number}/decision", {}, csrf)
    view = client.get(f"/v1/applications/{number}").json()
    assert view["status"] == "declined", view["decision"]
    zh = client.get(f"/web/applications/{number}").text
    en = client.get(f"/web/applications/{number}?lang=en").text
    for reason in view["decision"]["reasons"]:
        assert reason["zh"] in zh and reason["en"] in en
    assert "：" not in en.split("<main")[1] and "：" in zh  # punctuation follows the language
    assert 'id="ask-review"' in zh and 'id="to-offer"' not in zh
    why = client.get(f"/web/applications/{number}/why?lang=en").text
    assert 'id="score-factors"' in why and "Main factors" in why
    # a new identity starts clean: none of the old one's applications or consents
    r = _post(client, "/web/me", {"action": "new", "profile": "good"}, csrf)
    assert r.status_code == 303
    assert client.get(f"/web/applications/{number}").status_code == 404
    assert 'id="no-consents"' in client.get("/web/me").text
