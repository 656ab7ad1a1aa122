"""The pure origination rules: consent per purpose / separate / licensed channel, the server-timed
education gate, household cap, debt-to-income, grading and the prohibited-feature check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.compliance.consent import ConsentRecord, check_consents, validate_consent
from xindai.compliance.education import LessonProgress, check_education, grade_quiz
from xindai.compliance.policy import (
    PolicyConfig,
    check_dti,
    check_household_cap,
    check_model_features,
    grade_for,
    outcome_of,
)
from xindai.kernel.errors import ValidationError
from xindai.products.catalogue import load_catalogue

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Source:
    name: str
    category: str
    third_party: bool
    purpose: str = "credit-limit"
    label_zh: str = "数据"
    label_en: str = "data"


def _consent(source: str, **kw: object) -> ConsentRecord:
    args: dict[str, object] = {
        "subject": "s",
        "source": source,
        "purpose": "credit-limit",
        "separate": False,
        "given_at": T0,
    }
    args.update(kw)
    return ConsentRecord(**args)  # type: ignore[arg-type]


def test_consent_is_per_purpose_separate_for_sensitive_and_licensed_for_third_party() -> None:
    sources = [
        Source("gps", "sensitive", False),
        Source("bureau", "ordinary", True),
        Source("clinic", "prohibited", False),
    ]
    gaps = check_consents(sources, [], at=T0)
    assert [(g.source, g.kind) for g in gaps] == [
        ("gps", "missing"),
        ("bureau", "missing"),
        ("clinic", "prohibited"),
    ]
    consents = [
        _consent("gps"),  # bundled
        _consent("bureau", channel="direct-partner", separate=True),
        _consent("gps", purpose="marketing", separate=True),  # another purpose
    ]
    kinds = [(g.source, g.kind) for g in check_consents(sources[:2], consents, at=T0)]
    assert kinds == [("gps", "separate"), ("bureau", "unlicensed")]
    ok = [_consent("gps", separate=True), _consent("bureau", channel="pudao")]
    assert check_consents(sources[:2], ok, at=T0) == []
    withdrawn = [
        _consent("gps", separate=True, withdrawn_at=T0 + timedelta(seconds=1)),
        _consent("bureau", channel="pudao"),
    ]
    assert check_consents(sources[:2], withdrawn, at=T0) == []
    late = check_consents(sources[:2], withdrawn, at=T0 + timedelta(seconds=1))
    assert [g.kind for g in late] == ["missing"]
    with pytest.raises(ValidationError) as err:
        validate_consent(_consent(""))
    assert err.value.field == "source"


LESSON = load_catalogue().get("travel-credit").education


@given(st.integers(0, 1_000))
def test_the_gate_passes_exactly_at_the_lesson_length(seconds: int) -> None:
    right = [q.answer for q in LESSON.quiz]
    progress = LessonProgress(
        LESSON.lesson_id, T0, T0 + timedelta(seconds=seconds), grade_quiz(LESSON, right)
    )
    passed = not check_education(LESSON, progress)
    assert passed == (seconds >= LESSON.min_watch_seconds)


def test_education_gaps() -> None:
    assert [g.code for g in check_education(LESSON, None)] == ["not-started"]
    started = LessonProgress(LESSON.lesson_id, T0)
    assert [g.code for g in check_education(LESSON, started)] == ["not-finished", "quiz-failed"]
    other = LessonProgress("other", T0, T0 + timedelta(hours=1), 5)
    assert [g.code for g in check_education(LESSON, other)] == ["wrong-lesson"]
    with pytest.raises(ValidationError) as err:
        grade_quiz(LESSON, [0, 99])
    assert err.value.field == "answers[1]"


def test_household_cap_counts_existing_open_credit() -> None:
    cfg = PolicyConfig()
    assert check_household_cap("consumer", 15_000_000, 5_000_000, cfg) == []
    over = check_household_cap("consumer", 15_000_000, 5_000_001, cfg)
    assert over[0].code == "household-cap" and "50000.00" in over[0].reason_en
    assert check_household_cap("business", 15_000_000, 9_000_000, cfg) == []


def test_dti_and_grades() -> None:
    cfg = PolicyConfig()
    assert check_dti(1_000_000, 200_000, 300_000, cfg) == []
    assert check_dti(1_000_000, 200_000, 300_001, cfg)[0].code == "debt-to-income"
    assert check_dti(None, 0, 1, cfg)[0].outcome == "refer"
    assert grade_for(0.05, cfg).grade == "A"
    assert grade_for(0.5, cfg).grade == "E"
    assert outcome_of(grade_for(0.55, cfg).reasons) == "refer"
    assert outcome_of(grade_for(0.61, cfg).reasons) == "decline"
    with pytest.raises(ValidationError):
        PolicyConfig(max_dti=Decimal("1.5"))


def test_a_prohibited_model_feature_is_named() -> None:
    assert check_model_features("m", {"age": "ordinary", "gps": "sensitive"}) == []
    bad = check_model_features("m", {"diagnosis": "prohibited", "age": "ordinary"})
    assert bad[0].code == "prohibited-feature" and "diagnosis" in bad[0].reason_en
