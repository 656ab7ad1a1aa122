"""The scenario product as loaded from its file, and what it decides: limits, prices, perks, eligibility.

A ``ScenarioProduct`` is immutable and already validated (``loader.py``): every expression is
whitelisted and type-checked, every grid rate is within the servicing loan product's bounds and,
with the fee-equivalent rate, within the all-in cap.

Invariants:

* limits are integer fen, computed exactly (fractions) and rounded **once, down**, to the product's
  ``round_down_to`` step: a limit is never rounded up into money the formula did not grant;
* ``limit_for`` applies, in order: formula → adjustments (multipliers, e.g. +30% peak season) →
  cap at ``max`` → round down to the step → a result below ``min`` grants nothing (0). Warnings add
  flags (e.g. ``turnover-warning``) and may freeze new draws; they never change the number;
* ``price`` starts from the grid cell, subtracts discounts (in the order given, each at most once,
  their total capped by ``max_total_discount``) and never goes below the loan product's minimum
  rate; the fees are the servicing loan product's fees (the servicing core charges exactly those),
  so an offer priced here is what the servicing core will quote;
* nothing here knows the APR: the exact IRR cap check of an offer is done in ``xindai.app`` with
  ``xindai.compliance``; the catalogue guarantees, at load, ``rate + fee-equivalent rate ≤ cap``
  for every grade × term with a conservative fee-equivalent (see ``fee_equivalent_rate``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction
from typing import Any

from xindai.kernel.errors import ValidationError
from xindai.money.allocation import allocate
from xindai.money.money import format_yuan
from xindai.money.rounding import Rounding, round_fen
from xindai.products.catalogue.expr import Expr
from xindai.products.catalogue.regions import covers
from xindai.products.loan_product import LoanProduct
from xindai.products.scenarios.families import SIGNALS
from xindai.products.scenarios.schema import coerce

GRADES = ("A", "B", "C", "D", "E")
#: precision of the conservative fee-equivalent rate (rounded up: never understates the cost)
FEE_EQ_QUANTUM = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Text:
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class DataSource:
    """A data source the product reads; consent is collected per source and purpose."""

    name: str
    category: str  # "ordinary" | "sensitive"
    third_party: bool
    purpose: str
    label_zh: str
    label_en: str


@dataclass(frozen=True, slots=True)
class QuizItem:
    question_zh: str
    question_en: str
    choices: tuple[Text, ...]
    answer: int  # index into choices


@dataclass(frozen=True, slots=True)
class Lesson:
    lesson_id: str
    title_zh: str
    min_watch_seconds: int = 300  # measured by the server's clock, never the client's
    quiz: tuple[QuizItem, ...] = ()
    pass_mark: int = 1  # correct answers needed
    title_en: str = ""
    video: str = ""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why something holds or fails, in both languages, with a stable code."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A condition over signals; ``reason`` explains it (for eligibility: what fails when false)."""

    expr: Expr
    reason: Reason


@dataclass(frozen=True, slots=True)
class Eligibility:
    min_age: int = 18
    max_age: int = 65
    min_monthly_income_fen: int | None = None
    segments: tuple[str, ...] = ("consumer",)
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class Adjustment:
    """When ``when`` holds, the limit is multiplied by ``multiply`` and ``flag`` is raised."""

    when: Expr
    multiply: Decimal
    flag: str
    reason: Reason


@dataclass(frozen=True, slots=True)
class LimitWarning:
    """When ``when`` holds, ``flag`` is raised; ``freeze_new_draws`` stops new drawdowns."""

    when: Expr
    flag: str
    freeze_new_draws: bool
    reason: Reason


@dataclass(frozen=True, slots=True)
class LimitRule:
    formula: Expr
    explain: Text
    min_fen: int
    max_fen: int
    round_down_to_fen: int
    adjustments: tuple[Adjustment, ...] = ()
    warnings: tuple[LimitWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class Discount:
    code: str
    rate_off: Decimal
    label: Text


@dataclass(frozen=True, slots=True)
class Fees:
    """The servicing loan product's fees (the catalogue file restates them; load checks they agree)."""

    monthly_rate: Decimal = Decimal(0)  # on the original principal, per month
    upfront_rate: Decimal = Decimal(0)
    prepayment_rate: Decimal = Decimal(0)
    late_fee_fen: int = 0

    @classmethod
    def of(cls, product: LoanProduct) -> Fees:
        return cls(
            product.monthly_fee_rate,
            product.upfront_fee_rate,
            product.prepayment_fee_rate,
            product.late_fee,
        )


def fee_equivalent_rate(fees: Fees, term: int) -> Decimal:
    """A conservative annual rate equivalent of the fees over ``term`` months (rounded up).

    A flat fee charged on the *original* principal costs more than the same nominal rate on the
    declining balance: over an amortising loan the average balance is (n+1)/(2n) of the principal,
    so a monthly fee ``f`` is worth ``12·f·2n/(n+1)`` a year and an upfront fee ``u`` is worth
    ``24·u/(n+1)``. For the DOMAIN_RULES examples (flat 0.6% and 1.0%/month, 12 months) this gives
    13.29% and 22.15% against IRR APRs of 13.03% and 21.46%: an upper estimate, as intended. The
    exact IRR check happens when an offer is made (``xindai.app``).
    """
    if term < 1:
        raise ValidationError("term", "must be at least 1 month")
    n = Decimal(term)
    value = fees.monthly_rate * 12 * 2 * n / (n + 1) + fees.upfront_rate * 24 / (n + 1)
    return value.quantize(FEE_EQ_QUANTUM, rounding=ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class Pricing:
    annual_rate: Decimal
    fees: Fees
    discounts_applied: tuple[tuple[str, Decimal], ...]
    grid_rate: Decimal
    grade: str
    term: int
    fee_equivalent_rate: Decimal

    @property
    def all_in_estimate(self) -> Decimal:
        """Nominal rate + the conservative fee-equivalent rate (≤ the cap by construction)."""
        return self.annual_rate + self.fee_equivalent_rate


@dataclass(frozen=True, slots=True)
class Perk:
    code: str
    label_zh: str
    label_en: str
    when: Expr
    valid_days: int


@dataclass(frozen=True, slots=True)
class Stage:
    """A tranche of a staged line: released when ``attestation`` is recorded on the chain."""

    code: str
    share: Decimal
    attestation: str
    label_zh: str
    label_en: str


@dataclass(frozen=True, slots=True)
class LimitResult:
    limit_fen: int
    inputs: dict[str, str]
    explanation_zh: str
    explanation_en: str
    flags: tuple[str, ...]
    base_fen: int = 0  # the formula's own result (rounded down to the fen), before adjustments
    freeze_new_draws: bool = False


def _dec_str(value: Fraction | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value.denominator == 1:
        return str(value.numerator)
    return str(Decimal(value.numerator) / Decimal(value.denominator))


@dataclass(frozen=True, slots=True)
class ScenarioProduct:
    code: str
    name_zh: str
    name_en: str
    loan_product: str
    sandbox: bool
    regions: tuple[str, ...] | None
    data_sources: tuple[DataSource, ...]
    education: Lesson
    eligibility: Eligibility
    terms: tuple[int, ...]
    methods: tuple[str, ...]
    limit: LimitRule
    grid: Mapping[str, Mapping[int, Decimal]]
    discounts: Mapping[str, Discount]
    max_total_discount: Decimal
    fees: Fees
    min_rate: Decimal  # the servicing loan product's floor; discounts stop here
    perks: tuple[Perk, ...]
    score_model: str | None
    stages: tuple[Stage, ...] = ()
    source_file: str = ""
    priced_relative_to: tuple[str, Decimal] | None = None
    _signals: tuple[str, ...] = field(default=())

    # what the product reads ---------------------------------------------------------------------
    @property
    def signals(self) -> tuple[str, ...]:
        """Every scenario signal any of the product's expressions reads (sorted)."""
        return self._signals

    @property
    def limit_signals(self) -> tuple[str, ...]:
        names: set[str] = set(self.limit.formula.names)
        for adj in self.limit.adjustments:
            names |= adj.when.names
        for warn in self.limit.warnings:
            names |= warn.when.names
        return tuple(sorted(names))

    def _env(self, signals: Mapping[str, object], names: Iterable[str]) -> dict[str, Any]:
        env: dict[str, Any] = {}
        for name in names:
            if name not in signals:
                raise ValidationError(name, f"signal value is missing (product {self.code})")
            env[name] = coerce(SIGNALS[name], signals[name])
        return env

    # limits -------------------------------------------------------------------------------------
    def limit_for(self, signals: Mapping[str, object]) -> LimitResult:
        """The credit limit (fen) the product grants on ``signals``, with reasons and flags."""
        rule = self.limit
        env = self._env(signals, self.limit_signals)
        base = rule.formula.number(env) * 100  # yuan → fen, exact
        value = base
        flags: list[str] = []
        zh: list[str] = [rule.explain.zh]
        en: list[str] = [rule.explain.en]
        for adj in rule.adjustments:
            if adj.when.test(env):
                value *= Fraction(adj.multiply)
                flags.append(adj.flag)
                zh.append(adj.reason.zh)
                en.append(adj.reason.en)
        freeze = False
        for warn in rule.warnings:
            if warn.when.test(env):
                flags.append(warn.flag)
                freeze = freeze or warn.freeze_new_draws
                zh.append(warn.reason.zh)
                en.append(warn.reason.en)
        if value > rule.max_fen:
            value = Fraction(rule.max_fen)
            zh.append(f"按产品上限 {format_yuan(rule.max_fen)} 元封顶")
            en.append(f"capped at the product maximum {format_yuan(rule.max_fen)} CNY")
        step = rule.round_down_to_fen
        limit = round_fen(value / step, Rounding.DOWN) * step
        if limit < rule.min_fen:
            limit = 0
            zh.append(f"低于最低额度 {format_yuan(rule.min_fen)} 元，不予授信")
            en.append(f"below the minimum limit {format_yuan(rule.min_fen)} CNY: no limit granted")
        limit = max(limit, 0)
        inputs = {name: _dec_str(env[name]) for name in sorted(env)}
        listed_zh = "，".join(f"{SIGNALS[n].label_zh}={inputs[n]}" for n in inputs)
        listed_en = ", ".join(f"{SIGNALS[n].label_en}={inputs[n]}" for n in inputs)
        return LimitResult(
            limit_fen=limit,
            inputs=inputs,
            explanation_zh=(
                f"额度 {format_yuan(limit)} 元："
                + "；".join(zh)
                + f"（公式 {rule.formula}；{listed_zh}）"
            ),
            explanation_en=(
                f"Limit {format_yuan(limit)} CNY: "
                + "; ".join(en)
                + f" (formula {rule.formula}; {listed_en})"
            ),
            flags=tuple(flags),
            base_fen=max(round_fen(base, Rounding.DOWN), 0),
            freeze_new_draws=freeze,
        )

    # prices -------------------------------------------------------------------------------------
    def price(self, grade: str, term: int, discounts: Iterable[str] = ()) -> Pricing:
        """The annual rate for ``grade`` × ``term`` after ``discounts``, with the fees."""
        if grade not in self.grid:
            raise ValidationError("grade", f"{grade!r} is not a risk grade ({', '.join(GRADES)})")
        if term not in self.terms:
            raise ValidationError(
                "term", f"{term} is not offered by {self.code} {list(self.terms)}"
            )
        grid_rate = self.grid[grade][term]
        rate = grid_rate
        total_off = Decimal(0)
        applied: list[tuple[str, Decimal]] = []
        seen: set[str] = set()
        for code in discounts:
            if code not in self.discounts:
                known = ", ".join(self.discounts) or "none"
                raise ValidationError("discounts", f"unknown discount {code!r} (known: {known})")
            if code in seen:
                raise ValidationError("discounts", f"discount {code!r} given twice")
            seen.add(code)
            off = min(
                self.discounts[code].rate_off,
                self.max_total_discount - total_off,
                rate - self.min_rate,
            )
            off = max(off, Decimal(0))
            total_off += off
            rate -= off
            applied.append((code, off))
        return Pricing(
            annual_rate=rate,
            fees=self.fees,
            discounts_applied=tuple(applied),
            grid_rate=grid_rate,
            grade=grade,
            term=term,
            fee_equivalent_rate=fee_equivalent_rate(self.fees, term),
        )

    # who may borrow -----------------------------------------------------------------------------
    def permits_region(self, region: str) -> bool:
        """Whether an applicant in GB/T 2260 ``region`` may take the product (None = nationwide)."""
        if self.regions is None:
            return True
        return any(covers(allowed, region) for allowed in self.regions)

    def eligibility_failures(
        self,
        *,
        age: int,
        segment: str,
        monthly_income_fen: int | None = None,
        region: str | None = None,
        signals: Mapping[str, object] | None = None,
    ) -> tuple[Reason, ...]:
        """Every eligibility condition the applicant fails (empty = eligible), with reasons."""
        e = self.eligibility
        out: list[Reason] = []
        if not e.min_age <= age <= e.max_age:
            out.append(
                Reason(
                    "age",
                    f"年龄须在 {e.min_age}–{e.max_age} 岁之间",
                    f"age must be between {e.min_age} and {e.max_age}",
                )
            )
        if segment not in e.segments:
            out.append(
                Reason(
                    "segment",
                    f"本产品面向：{'、'.join(e.segments)}",
                    f"this product is for: {', '.join(e.segments)}",
                )
            )
        if e.min_monthly_income_fen is not None and (
            monthly_income_fen is None or monthly_income_fen < e.min_monthly_income_fen
        ):
            need = format_yuan(e.min_monthly_income_fen)
            out.append(
                Reason(
                    "income", f"月收入须不低于 {need} 元", f"monthly income must be ≥ {need} CNY"
                )
            )
        if self.regions is not None and (region is None or not self.permits_region(region)):
            out.append(
                Reason(
                    "region",
                    "本产品为试点产品，仅限试点地区申请",
                    "this is a sandbox product, open only in its pilot regions",
                )
            )
        if e.rules:
            names = sorted({n for r in e.rules for n in r.expr.names})
            env = self._env(signals or {}, names)
            out.extend(r.reason for r in e.rules if not r.expr.test(env))
        return tuple(out)

    # perks and stages ---------------------------------------------------------------------------
    def entitlements(self, signals: Mapping[str, object]) -> tuple[Perk, ...]:
        """The perks whose condition holds on ``signals``."""
        names = sorted({n for p in self.perks for n in p.when.names})
        env = self._env(signals, names)
        return tuple(p for p in self.perks if p.when.test(env))

    def stage_amounts(self, limit_fen: int) -> tuple[tuple[str, int], ...]:
        """The line split by stage (largest remainder: the tranches sum to the limit exactly)."""
        if not self.stages:
            raise ValidationError("stages", f"{self.code} is not a staged product")
        parts = allocate(limit_fen, [s.share for s in self.stages])
        return tuple((s.code, amount) for s, amount in zip(self.stages, parts, strict=True))
