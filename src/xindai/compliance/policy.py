"""Credit policy for origination: the checks a decision must pass, each with reasons in zh-CN and
English, all thresholds configuration with the DOMAIN_RULES defaults.

* **household cap** (DOMAIN_RULES §6): online consumer credit ≤ 200,000 CNY per household across the
  household's open loans, counting the new one;
* **debt-to-income**: existing monthly debt service plus the new instalment ≤ ``max_dti`` of the
  declared monthly income (default 50%; a lender's choice — configurable);
* (eligibility and permitted regions are the product's own rules: ``ScenarioProduct.
  eligibility_failures`` in the catalogue;)
* **model features**: a model that uses a prohibited data category (health, religion, genes, …;
  征信业管理条例 Art. 14) must not decide anything;
* **grade**: the model's PD maps to a risk grade (approve), a grey band (refer to a human) or decline.

Invariants: pure; every check returns a list of ``PolicyReason`` (empty = passed) and never raises
on a well-typed input; amounts are integer fen, ratios ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from xindai.kernel.errors import ValidationError
from xindai.money.money import format_yuan

DECLINE = "decline"
REFER = "refer"


@dataclass(frozen=True, slots=True)
class PolicyReason:
    """One reason a check did not pass; ``outcome`` says whether it declines or refers."""

    code: str
    reason_zh: str
    reason_en: str
    outcome: str = DECLINE

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "zh": self.reason_zh,
            "en": self.reason_en,
            "outcome": self.outcome,
        }


@dataclass(frozen=True, slots=True)
class PolicyConfig:
    """Thresholds. ``grades`` maps an upper PD bound to a grade, ascending; a PD above the last
    bound but not above ``refer_pd`` is referred to a human; above ``refer_pd`` it is declined."""

    household_cap_fen: int = 20_000_000
    household_cap_segments: tuple[str, ...] = ("consumer",)
    max_dti: Decimal = Decimal("0.5")
    grades: tuple[tuple[Decimal, str], ...] = (
        (Decimal("0.10"), "A"),
        (Decimal("0.20"), "B"),
        (Decimal("0.30"), "C"),
        (Decimal("0.40"), "D"),
        (Decimal("0.50"), "E"),
    )
    refer_pd: Decimal = Decimal("0.60")
    fraud_review_refers: bool = True

    def __post_init__(self) -> None:
        if self.household_cap_fen <= 0:
            raise ValidationError("household_cap_fen", "must be positive")
        if not Decimal(0) < self.max_dti <= Decimal(1):
            raise ValidationError("max_dti", "must be in (0, 1]")
        bounds = [b for b, _ in self.grades]
        if not bounds or bounds != sorted(bounds) or not bounds[-1] <= self.refer_pd < 1:
            raise ValidationError("grades", "bounds must ascend and end at or below refer_pd < 1")


def check_household_cap(
    segment: str, existing_fen: int, requested_fen: int, cfg: PolicyConfig
) -> list[PolicyReason]:
    """The household's open online consumer credit plus ``requested_fen`` within the cap."""
    if segment not in cfg.household_cap_segments:
        return []
    total = existing_fen + requested_fen
    if total <= cfg.household_cap_fen:
        return []
    room = max(0, cfg.household_cap_fen - existing_fen)
    return [
        PolicyReason(
            "household-cap",
            f"家庭网络消费贷款余额将达{format_yuan(total)}元，超过{format_yuan(cfg.household_cap_fen)}元上限"
            f"（可用额度{format_yuan(room)}元）",
            f"household online consumer credit would reach {format_yuan(total)} CNY, above the"
            f" {format_yuan(cfg.household_cap_fen)} CNY cap (room left {format_yuan(room)} CNY)",
        )
    ]


def check_dti(
    monthly_income_fen: int | None,
    monthly_debt_fen: int,
    new_instalment_fen: int,
    cfg: PolicyConfig,
) -> list[PolicyReason]:
    """(existing debt service + new instalment) / income ≤ ``max_dti``; no income → refer."""
    if not monthly_income_fen:
        return [
            PolicyReason(
                "income-unknown",
                "未提供月收入，无法评估负债收入比，转人工审核",
                "no monthly income was declared, so debt-to-income cannot be assessed; referred",
                REFER,
            )
        ]
    dti = Decimal(monthly_debt_fen + new_instalment_fen) / Decimal(monthly_income_fen)
    if dti <= cfg.max_dti:
        return []
    shown = f"{(dti * 100).quantize(Decimal('0.1'))}%"
    limit = f"{(cfg.max_dti * 100).normalize():f}%"
    return [
        PolicyReason(
            "debt-to-income",
            f"月还款占收入比例{shown}，超过{limit}",
            f"debt-to-income would be {shown}, above {limit}",
        )
    ]


def prohibited_features(categories: Mapping[str, str]) -> list[str]:
    """Names of model features whose data category is ``prohibited``."""
    return sorted(name for name, cat in categories.items() if str(cat) == "prohibited")


def check_model_features(model_name: str, categories: Mapping[str, str]) -> list[PolicyReason]:
    """A model using a prohibited data category may not decide (征信业管理条例 Art. 14)."""
    bad = prohibited_features(categories)
    if not bad:
        return []
    return [
        PolicyReason(
            "prohibited-feature",
            f"评分模型{model_name}使用了禁止采集的信息（{'、'.join(bad)}），不得用于授信决策",
            f"the scoring model {model_name} uses prohibited data ({', '.join(bad)}); it may not"
            " be used for a credit decision",
        )
    ]


@dataclass(frozen=True, slots=True)
class Grading:
    grade: str | None  # None when referred or declined
    reasons: tuple[PolicyReason, ...] = field(default_factory=tuple)


def grade_for(pd: float, cfg: PolicyConfig) -> Grading:
    """The risk grade for a PD, or the reason it is referred or declined."""
    p = Decimal(str(round(pd, 6)))
    for bound, grade in cfg.grades:
        if p <= bound:
            return Grading(grade)
    pct = f"{(p * 100).quantize(Decimal('0.1'))}%"
    if p <= cfg.refer_pd:
        return Grading(
            None,
            (
                PolicyReason(
                    "score-grey-zone",
                    f"信用评分处于人工复核区间（违约概率{pct}）",
                    f"the credit score is in the manual-review band (PD {pct})",
                    REFER,
                ),
            ),
        )
    return Grading(
        None,
        (
            PolicyReason(
                "score",
                f"信用评分未达到准入要求（违约概率{pct}）",
                f"the credit score is below the approval threshold (PD {pct})",
            ),
        ),
    )


def outcome_of(reasons: Iterable[PolicyReason]) -> str:
    """``decline`` if any reason declines, else ``refer`` if any refers, else ``approve``."""
    seen = {r.outcome for r in reasons}
    if DECLINE in seen:
        return DECLINE
    if REFER in seen:
        return REFER
    return "approve"
