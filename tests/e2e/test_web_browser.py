"""The borrower's pages in a real browser (headless Chromium driven by Playwright).

Runs the real site under uvicorn on a free port. Chromium comes from the machine (Debian's package;
`.ci/run` installs it); without it the test is skipped locally but fails in CI.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, sync_playwright

from xindai.app.demo import seed_demo
from xindai.bootstrap import bootstrap, upgrade_database
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


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    path: Path = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{path}/site.db"
    upgrade_database(url)
    platform = bootstrap(database_url=url)
    seed_demo(platform.uow, platform.products, loans=6)
    with platform.uow() as uow:
        number = uow.loans.get(1).number
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
    yield f"http://127.0.0.1:{port}", number
    server.should_exit = True
    thread.join(10)
    platform.close()


@pytest.fixture(scope="module")
def page(base_url: tuple[str, str]) -> Iterator[Page]:
    assert CHROMIUM is not None, "CI must have Chromium installed"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def test_borrower_calculates_a_loan_and_reads_the_apr(
    page: Page, base_url: tuple[str, str]
) -> None:
    root, _ = base_url
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


def test_borrower_sees_the_field_to_fix(page: Page, base_url: tuple[str, str]) -> None:
    root, _ = base_url
    p = page
    p.goto(f"{root}/web/quote")
    p.fill("#annual_rate", "0.36")
    p.click("#calculate")
    box = p.wait_for_selector("#quote-error")
    assert box.get_attribute("data-field") == "annual_rate"
    assert "合同年利率" in box.inner_text()


def test_borrower_finds_a_loan_by_number(page: Page, base_url: tuple[str, str]) -> None:
    root, number = base_url
    p = page
    p.goto(f"{root}/web/loans")
    p.fill("#ref", number)
    p.click("#find")
    p.wait_for_selector("#loan-status")
    assert number in p.inner_text("h1")
    assert p.locator("#schedule tr").count() > 1
