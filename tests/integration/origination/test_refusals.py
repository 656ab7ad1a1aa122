"""Refusals that must hold (SQLite and PostgreSQL): no consent (named), a bundled consent for
sensitive data, third-party data through an unlicensed channel, the education gate (server-timed,
quiz, not skippable), a prohibited feature in the model, a region outside a sandbox product's
pilot list, a fraud block from the risk engine (no offer) — and a refused application that is put
right can be decided again."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import BACKENDS
from xindai.app.demo import application_for, complete_lesson, consent_all
from xindai.app.origination import (
    EngineFraudCheck,
    ModelScorer,
    Origination,
    decide,
    finish_lesson,
    give_consent,
    list_consents,
    start_lesson,
    submit_application,
    withdraw_consent,
)
from xindai.kernel.clock import FixedClock
from xindai.kernel.errors import ConflictError, ValidationError
from xindai.scoring.artefact import load_model

pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)


def _codes(view: dict[str, object]) -> list[str]:
    decision = view["decision"]
    assert isinstance(decision, dict)
    return [r["code"] for r in decision["reasons"]]


def test_missing_separate_and_unlicensed_consents_are_named(
    orig: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]]
) -> None:
    subject = "c-1"
    app = submit_application(orig, application_for("consumer-instalment", subject, pool["good"][0]))
    complete_lesson(orig, clock, app["id"])
    view = decide(orig, app["id"])
    assert view["status"] == "refused" and view["offer"] is None
    assert _codes(view) == ["consent-missing:income-proof", "consent-missing:credit-bureau"]
    en = " ".join(r["en"] for r in view["decision"]["reasons"])
    assert "income-proof" in en and "credit-bureau" in en
    # a bundled consent for sensitive data and a direct (unlicensed) feed do not count
    give_consent(orig, subject, "income-proof", purpose="credit-limit", separate=False)
    give_consent(
        orig,
        subject,
        "credit-bureau",
        purpose="credit-limit",
        separate=True,
        channel="direct-partner",
    )
    view = decide(orig, app["id"])
    assert _codes(view) == ["consent-separate:income-proof", "consent-unlicensed:credit-bureau"]
    # consent for another purpose does not count either
    give_consent(orig, subject, "income-proof", purpose="marketing", separate=True)
    assert _codes(decide(orig, app["id"]))[0] == "consent-separate:income-proof"
    # put right → decided again → offered; a withdrawn consent stops the next application
    consent_all(orig, subject, "consumer-instalment")
    assert decide(orig, app["id"])["status"] == "offered"
    bureau = next(c for c in list_consents(orig, subject) if c["channel"] == "baihang")
    withdraw_consent(orig, subject, bureau["id"])
    second = submit_application(
        orig, application_for("consumer-instalment", subject, pool["good"][0])
    )
    complete_lesson(orig, clock, second["id"])
    assert "consent-unlicensed:credit-bureau" in _codes(decide(orig, second["id"]))


def test_education_gate_uses_server_time_and_the_quiz(
    orig: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]]
) -> None:
    code, subject = "travel-credit", "e-1"
    app = submit_application(orig, application_for(code, subject, pool["good"][0]))
    consent_all(orig, subject, code)
    # no lesson at all: the client cannot skip it
    assert _codes(decide(orig, app["id"])) == ["education-not-started"]
    # 299 s by the server's clock is not 300 s, whatever a client says
    complete_lesson(orig, clock, app["id"], seconds=299)
    assert _codes(decide(orig, app["id"])) == ["education-too-short"]
    # long enough, but the quiz failed
    start_lesson(orig, app["id"])
    clock.advance(timedelta(seconds=301))
    quiz = orig.catalogue.get(code).education.quiz
    result = finish_lesson(orig, app["id"], [(q.answer + 1) % len(q.choices) for q in quiz])
    assert not result["passed"]
    assert _codes(decide(orig, app["id"])) == ["education-quiz-failed"]
    with pytest.raises(ValidationError) as err:
        finish_lesson(orig, app["id"], [0])
    assert err.value.field == "answers"
    complete_lesson(orig, clock, app["id"])
    assert decide(orig, app["id"])["status"] == "offered"
    with pytest.raises(ConflictError):
        decide(orig, app["id"])  # decided once: not again


def test_a_model_with_a_prohibited_feature_may_not_decide(
    orig: Origination,
    clock: FixedClock,
    champion_dir: Path,
    tmp_path: Path,
    pool: dict[str, list[dict[str, object]]],
) -> None:
    # the champion's artefact with one feature relabelled as medical history (prohibited)
    tampered = tmp_path / "model"
    shutil.copytree(champion_dir, tampered)
    spec = yaml.safe_load((tampered / "spec.yaml").read_text(encoding="utf-8"))
    spec["features"]["purpose"]["category"] = "prohibited"
    (tampered / "spec.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    o = Origination(
        uow=orig.uow,
        products=orig.products,
        catalogue=orig.catalogue,
        clock=clock,
        fraud=orig.fraud,
        scorers={"champion": ModelScorer("champion", load_model(tampered))},
    )
    app = submit_application(o, application_for("carbon-credit", "m-1", pool["good"][0]))
    consent_all(o, "m-1", "carbon-credit")
    complete_lesson(o, clock, app["id"])
    view = decide(o, app["id"])
    assert view["status"] == "refused" and _codes(view) == ["prohibited-feature"]
    assert "purpose" in view["decision"]["reasons"][0]["en"]


def test_region_outside_a_sandbox_product_is_refused(
    orig: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]]
) -> None:
    app = submit_application(
        orig, application_for("credit-repair", "r-1", pool["good"][0], region="650100")
    )
    consent_all(orig, "r-1", "credit-repair")
    complete_lesson(orig, clock, app["id"])
    view = decide(orig, app["id"])
    assert view["status"] == "refused" and _codes(view) == ["eligibility-region"]
    assert view["offer"] is None
    inside = submit_application(orig, application_for("credit-repair", "r-2", pool["good"][0]))
    consent_all(orig, "r-2", "credit-repair")
    complete_lesson(orig, clock, inside["id"])
    assert decide(orig, inside["id"])["status"] == "offered"


def test_a_fraud_block_means_no_offer(
    orig: Origination, clock: FixedClock, pool: dict[str, list[dict[str, object]]]
) -> None:
    assert isinstance(orig.fraud, EngineFraudCheck)
    orig.fraud.engine.watchlists.add("device", "stolen-phone")
    app = submit_application(
        orig, application_for("bnpl", "f-1", pool["good"][0], device_id="stolen-phone")
    )
    consent_all(orig, "f-1", "bnpl")
    complete_lesson(orig, clock, app["id"])
    view = decide(orig, app["id"])
    assert view["status"] == "declined" and view["offer"] is None
    assert _codes(view) == ["fraud-block"]
    assert "stolen-phone" in view["decision"]["reasons"][0]["en"]


def test_bad_input_names_the_field_and_stores_nothing(
    orig: Origination, pool: dict[str, list[dict[str, object]]]
) -> None:
    cases = {
        "product_code": {"product_code": "payday-loan"},
        "term": {"term": 7},
        "amount": {"amount": 12.5},
        "signals.unknown_signal": {"signals": {"unknown_signal": "1"}},
        "features.purpose": {"features": {"purpose": 1.5}},
        "discounts": {"discounts": ["free-money"]},
    }
    for field, bad in cases.items():
        with pytest.raises(ValidationError) as err:
            submit_application(
                orig, {**application_for("travel-credit", "v-1", pool["good"][0]), **bad}
            )
        assert err.value.field == field
    with orig.uow() as uow:
        assert uow.origination.list_applications() == []
