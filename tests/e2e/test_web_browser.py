"""The borrower's pages in a real browser (headless Chromium driven by Playwright).

Runs the real site under uvicorn on a free port, one browser for the module. Chromium comes from
the machine (Debian's package; `.ci/run` installs it); without it the test is skipped locally but
fails in CI. The origination clock is a ``FixedClock`` the test advances (the server's clock decides
the lesson); the fund-flow page is checked by its own in-browser verifier, and once more with one
proof tampered in transit.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, Route, sync_playwright

from xindai.app.demo import seed_demo
from xindai.app.origination import ModelScorer
from xindai.app.supply_chain import FARM_MEMBERS, run_farm_demo
from xindai.bootstrap import bootstrap, ensure_champion, upgrade_database
from xindai.chain.demo import demo_key
from xindai.kernel.clock import FixedClock
from xindai.scoring.artefact import load_model
from xindai.server import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed (CI installs it)", allow_module_level=True)


# Chromium must not try to reach the internet from this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Site:
    root: str
    number: str  # a demo loan
    farm_loan: str  # the farm line's loan: its money moved on the chain
    clock: FixedClock  # the origination's clock (the lesson is timed by it)
    quiz: list[int]  # the consumer-instalment lesson's right answers


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    path: Path = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{path}/site.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    keys = {name: demo_key(name) for name in FARM_MEMBERS}
    run_farm_demo(platform.uow, platform.products, platform.chain(), keys)  # loan 1
    seed_demo(platform.uow, platform.products, loans=6)
    clock = FixedClock(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    champion = ModelScorer("champion", load_model(ensure_champion(path / "registry")))
    o = platform.origination(clock=clock, scorers={"champion": champion})
    quiz = [q.answer for q in o.catalogue.get("consumer-instalment").education.quiz]
    with platform.uow() as uow:
        number = uow.loans.get(2).number
        farm_loan = uow.loans.get(1).number
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the site did not start"
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", number, farm_loan, clock, quiz)
    server.should_exit = True
    thread.join(10)
    platform.close()


@pytest.fixture(scope="module")
def page(site: Site) -> Iterator[Page]:
    assert CHROMIUM is not None, "CI must have Chromium installed"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def test_borrower_calculates_a_loan_and_reads_the_apr(page: Page, site: Site) -> None:
    root = site.root
    p = page
    p.goto(f"{root}/")
    assert p.locator("html").get_attribute("lang") == "zh-CN"
    p.click("text=借款试算")
    p.fill("#principal", "20000")
    p.fill("#term", "6")
    p.select_option("#method", "equal-principal")
    p.fill("#annual_rate", "0.18")
    p.fill("#start_date", "2026-03-01")
    p.click("#calculate")
    p.wait_for_selector("#quote-result")
    assert p.inner_text("#apr-simple") == "18.00%"
    assert p.locator("#schedule tr").count() == 1 + 6
    p.click("#switch-lang")
    assert "APR (simple)" in p.inner_text("#quote-result")


def test_borrower_sees_the_field_to_fix(page: Page, site: Site) -> None:
    root = site.root
    p = page
    p.goto(f"{root}/web/quote")
    p.fill("#annual_rate", "0.36")
    p.click("#calculate")
    box = p.wait_for_selector("#quote-error")
    assert box.get_attribute("data-field") == "annual_rate"
    assert "合同年利率" in box.inner_text()


def test_borrower_finds_a_loan_by_number(page: Page, site: Site) -> None:
    root, number = site.root, site.number
    p = page
    p.goto(f"{root}/web/loans")
    p.fill("#ref", number)
    p.click("#find")
    p.wait_for_selector("#loan-status")
    assert number in p.inner_text("h1")
    assert p.locator("#schedule tr").count() > 1


def test_borrower_applies_consents_learns_and_signs(page: Page, site: Site) -> None:
    p, root = page, site.root
    p.goto(f"{root}/web")
    p.click("#product-consumer-instalment")
    assert "演示身份" in p.inner_text("#demo-identity")
    p.fill("#age", "35")
    p.fill("#amount", "20000")
    p.fill("#monthly_income", "15000")
    p.fill("#monthly_debt", "1000")
    p.click("#apply")
    # consent: nothing pre-ticked; the sensitive sources have their own boxes
    p.wait_for_selector("#consent-form")
    boxes = p.locator("#consent-form input[type=checkbox]")
    assert boxes.count() >= 2 and all(not boxes.nth(i).is_checked() for i in range(boxes.count()))
    p.click("#give-consent")  # nothing ticked: refused, naming what is missing
    assert p.locator("#consent-missing li").count() == boxes.count()
    for i in range(boxes.count()):
        boxes.nth(i).check()
    p.click("#give-consent")
    # the lesson: the page counts down, the server's clock decides
    p.click("#start-lesson")
    assert int(p.inner_text("#remaining")) > 290
    for n, answer in enumerate(site.quiz):
        p.check(f"#q{n}-{answer}")
    p.click("#finish-lesson")
    assert "too-short" in (p.locator("#lesson-refused li").first.get_attribute("data-code") or "")
    site.clock.advance(timedelta(seconds=300))
    p.goto(p.url.split("/lesson")[0] + "/lesson")  # reloading would re-send the POST
    assert p.inner_text("#remaining") == "0"
    for n, answer in enumerate(site.quiz):
        p.check(f"#q{n}-{answer}")
    p.click("#finish-lesson")
    p.click("#get-decision")
    assert p.get_attribute("#decision", "data-status") == "offered"
    number = p.url.split("/applications/")[1].split("?")[0]
    p.click("#to-offer")
    api = json.loads(p.request.get(f"{root}/v1/applications/{number}").text())["offer"]["terms"]
    assert p.get_attribute("#apr-simple", "data-apr") == api["apr_simple"]
    assert p.inner_text("#total-cost") == api["total_cost"]
    p.click("#sign")  # no explicit confirmation: the form says so
    assert p.get_attribute("#form-error", "data-field") == "confirm"
    p.check("#confirm")
    p.click("#sign")
    p.wait_for_selector("#loan-status")
    assert re.search(r"/web/loans/XD", p.url) and p.get_attribute("#loan-status", "data-status")
    p.click("#switch-lang")
    assert "Repayment schedule" in p.inner_text("main")


def test_fund_flow_is_verified_in_the_browser(page: Page, site: Site) -> None:
    p = page
    p.goto(f"{site.root}/web/loans/{site.farm_loan}/fund-flow")
    p.wait_for_selector("#verify-summary[data-done]")
    rows = p.locator("#edges tr[id^=edge-]")
    assert rows.count() >= 3
    assert all(rows.nth(i).get_attribute("data-verified") == "ok" for i in range(rows.count()))
    assert p.get_attribute("#verify-summary", "data-done") == "ok"
    assert p.get_attribute("#checkpoint-verify", "data-verified") == "ok"  # Ed25519 by WebCrypto
    assert p.get_attribute("#quorum-verify", "data-verified") == "ok"  # k of n witnesses
    assert p.locator("#flow-graph line").count() == rows.count()


def test_a_tampered_proof_or_cosignature_is_marked_failed(page: Page, site: Site) -> None:
    p = page
    url = f"{site.root}/web/loans/{site.farm_loan}/fund-flow"

    def tamper(route: Route) -> None:
        html = route.fetch().text()
        head, rest = html.split('id="flow-data">', 1)
        raw, tail = rest.split("</script>", 1)
        data = json.loads(raw)
        proof = data["edges"][1]["proof"]
        proof[0] = ("A" if proof[0][0] != "A" else "B") + proof[0][1:]  # one hash altered
        # and every witness cosignature altered by one character of its signature
        lines = data["checkpoint"]["note"].split("\n")
        for n, line in enumerate(lines):
            if line.startswith("— ") and "/witness " in line:
                lines[n] = line[:-6] + ("A" if line[-6] != "A" else "B") + line[-5:]
        data["checkpoint"]["note"] = "\n".join(lines)
        route.fulfill(body=f'{head}id="flow-data">{json.dumps(data)}</script>{tail}',
                      content_type="text/html; charset=utf-8")  # fmt: skip

    p.route(url, tamper)
    try:
        p.goto(url)
        p.wait_for_selector("#verify-summary[data-done]")
        assert p.get_attribute("#edge-1", "data-verified") == "failed"
        assert "✗" in p.inner_text("#verify-1")
        assert p.get_attribute("#edge-0", "data-verified") == "ok"
        assert p.get_attribute("#verify-summary", "data-done") == "failed"
        assert p.get_attribute("#checkpoint-verify", "data-verified") == "ok"  # untouched
        assert p.get_attribute("#quorum-verify", "data-verified") == "failed"
    finally:
        p.unroute(url)
