"""Loading and validating scenario product files (``catalogue/files/*.yaml``).

Every file is checked completely before anything is returned: each problem becomes a
``CatalogueFinding`` naming the file, the field (a dotted path such as ``pricing.grid.C.12``) and
the reason, and ``load_catalogue`` raises one ``CatalogueError`` carrying all of them — a product
staff member fixes every mistake in one pass. Nothing half-loaded is ever returned.

Rules (each has a test): the YAML parses to a mapping; no unknown keys; code and names present;
the servicing loan product exists; terms and methods are offered by it; the limit maximum is within
its principal range; every grid cell A–E × term exists, is a decimal string, lies within its rate
bounds and — with the fee-equivalent rate — within the all-in cap (24% or the loan product's cap,
whichever is lower); the fees restate the loan product's fees exactly; discounts are positive;
data sources are known, ``ordinary`` or ``sensitive`` (never ``prohibited``), declared at least
as strictly as the registry says, and third-party sources are flagged as such; every expression is
in the language, names only known signals, never a prohibited one, and only signals whose source
the product declares; a sandbox product lists its regions and every region is a GB/T 2260 code or
a known name; the lesson lasts at least 60 s (default 300 s) and its quiz is answerable; stages
(staged lines only) sum to 1; codes are unique across files; relative pricing names a product with
its own grid covering every term.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from xindai.kernel.errors import ValidationError
from xindai.money.money import parse_yuan
from xindai.products.catalogue.expr import Expr, ExprError, Kind, compile_expr
from xindai.products.catalogue.model import (
    GRADES,
    Adjustment,
    DataSource,
    Discount,
    Eligibility,
    Fees,
    Lesson,
    LimitRule,
    LimitWarning,
    Perk,
    QuizItem,
    Reason,
    Rule,
    ScenarioProduct,
    Stage,
    Text,
    fee_equivalent_rate,
)
from xindai.products.catalogue.regions import normalise_region
from xindai.products.loan_product import LoanProduct
from xindai.products.loan_product import load_catalogue as load_loan_products
from xindai.products.scenarios.families import SIGNALS, SOURCES
from xindai.products.scenarios.schema import Category

#: the regulatory all-in line (金规〔2025〕9号); a loan product may set a lower cap, never higher
ALL_IN_CAP = Decimal("0.24")
MIN_LESSON_SECONDS = 60
SEGMENTS = ("consumer", "business", "farmer")
SCORE_LABELS = ("champion", "challenger")
PURPOSES = ("credit-limit", "credit-scoring", "eligibility", "perk", "fraud-prevention")
_SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# the C-accelerated safe loader when libyaml is present (10× faster), else the pure-Python one
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOP_KEYS = frozenset(
    {
        "code", "name", "loan_product", "sandbox", "regions", "eligibility", "data_sources",
        "education", "terms", "methods", "limit", "pricing", "fees", "perks", "score_model",
        "stages",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CatalogueFinding:
    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"


class CatalogueError(ValidationError):
    """One or more product files are invalid; ``findings`` lists every problem found."""

    def __init__(self, findings: list[CatalogueFinding]) -> None:
        self.findings = tuple(findings)
        first = findings[0]
        reason = first.reason
        if len(findings) > 1:
            reason += f"; and {len(findings) - 1} more: " + "; ".join(str(f) for f in findings[1:])
        super().__init__(f"{first.file}: {first.field}", reason)


class _File:
    """The findings of one file, and typed readers that record a finding instead of raising."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.findings: list[CatalogueFinding] = []

    def bad(self, field: str, reason: str) -> None:
        self.findings.append(CatalogueFinding(self.name, field, reason))

    def text(self, raw: object, field: str) -> Text:
        if (
            not isinstance(raw, Mapping)
            or not isinstance(raw.get("zh"), str)
            or not isinstance(raw.get("en"), str)
            or not raw["zh"].strip()
            or not raw["en"].strip()
        ):
            self.bad(field, "needs both a zh and an en text")
            return Text("", "")
        return Text(raw["zh"].strip(), raw["en"].strip())

    def decimal(self, raw: object, field: str, *, default: Decimal | None = None) -> Decimal:
        if raw is None and default is not None:
            return default
        if isinstance(raw, bool | float):
            self.bad(field, f'must be a decimal string such as "0.12" (quoted), not {raw!r}')
            return Decimal(0)
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            self.bad(field, f"{raw!r} is not a decimal number")
            return Decimal(0)
        if not value.is_finite() or value < 0:
            self.bad(field, "must be a finite non-negative decimal")
            return Decimal(0)
        return value

    def yuan(self, raw: object, field: str, default: str) -> int:
        try:
            return parse_yuan(default if raw is None else raw, field)
        except ValidationError as err:
            self.bad(field, err.reason)
            return 0

    def integer(self, raw: object, field: str, default: int, low: int = 0) -> int:
        if raw is None:
            return default
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < low:
            self.bad(field, f"must be a whole number ≥ {low}, got {raw!r}")
            return default
        return raw

    def mapping(self, raw: object, field: str, *, required: bool = True) -> Mapping[str, Any]:
        if raw is None and not required:
            return {}
        if not isinstance(raw, Mapping):
            self.bad(field, "must be a mapping")
            return {}
        return raw

    def items(self, raw: object, field: str, *, required: bool = True) -> list[Any]:
        if raw is None and not required:
            return []
        if not isinstance(raw, list) or (required and not raw):
            self.bad(field, "must be a non-empty list" if required else "must be a list")
            return []
        return raw

    def known_keys(self, raw: Mapping[str, Any], allowed: frozenset[str], field: str) -> None:
        for key in raw:
            if key not in allowed:
                where = f"{field}.{key}" if field else str(key)
                self.bad(where, f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def expr(self, raw: object, field: str, kinds: Mapping[str, Kind], want: Kind) -> Expr | None:
        try:
            return compile_expr(raw, kinds, want=want)
        except ExprError as err:
            self.bad(field, f"{err} in {raw!r}")
            return None


def _kinds_for(product_sources: set[str], f: _File, field: str) -> Callable[[str], None]:
    """A checker that records why a signal may not be used by this product (if it may not)."""

    def check(name: str) -> None:
        spec = SIGNALS[name]
        if spec.prohibited:
            f.bad(
                field,
                f"signal {name!r} is {spec.category} data ({spec.label_en}) and can never be a "
                "credit feature (征信业管理条例 Art. 14)",
            )
            return
        missing = [s for s in spec.sources if s not in product_sources]
        if missing:
            f.bad(
                field,
                f"signal {name!r} comes from {', '.join(missing)}, which the product does not "
                "declare in data_sources (no consent would be collected for it)",
            )

    return check


# every signal is typed by the registry; prohibited ones are listed too so that the error says
# "prohibited", not "unknown"
# (a text signal — only prohibited clinical codes are text — parses as a number here so that the
# file is refused for the real reason, its category, rather than for a type mismatch)
_KINDS: dict[str, Kind] = {
    name: ("number" if spec.kind == "text" else spec.kind) for name, spec in SIGNALS.items()
}


def _reason(f: _File, raw: Mapping[str, Any], field: str, code: str) -> Reason:
    text = f.text(raw.get("reason"), f"{field}.reason")
    return Reason(code, text.zh, text.en)


@dataclass(slots=True)
class _Draft:
    """A parsed file before cross-file checks (relative pricing)."""

    product: ScenarioProduct
    file: _File
    raw_pricing: Mapping[str, Any]
    loan: LoanProduct | None


def _parse(raw: Mapping[str, Any], f: _File, loans: Mapping[str, LoanProduct]) -> _Draft:
    f.known_keys(raw, _TOP_KEYS, "")
    code = raw.get("code")
    if not isinstance(code, str) or not _SLUG.fullmatch(code):
        f.bad("code", "must be a lower-case slug of letters, digits and dashes")
        code = "invalid"
    name = f.text(raw.get("name"), "name")

    loan_code = raw.get("loan_product")
    loan = loans.get(loan_code) if isinstance(loan_code, str) else None
    if loan is None:
        f.bad(
            "loan_product",
            f"unknown loan product {loan_code!r} (known: {', '.join(sorted(loans))})",
        )

    sandbox = raw.get("sandbox", False)
    if not isinstance(sandbox, bool):
        f.bad("sandbox", "must be true or false")
        sandbox = False
    regions = _regions(raw.get("regions"), sandbox, f)

    sources = _sources(raw.get("data_sources"), f)
    declared = {s.name for s in sources}

    used: set[str] = set()

    def expr(value: object, field: str, want: Kind) -> Expr | None:
        compiled = f.expr(value, field, _KINDS, want)
        if compiled is not None:
            before = len(f.findings)
            checker = _kinds_for(declared, f, field)
            for n in sorted(compiled.names):
                checker(n)
            used.update(compiled.names)
            if len(f.findings) > before:
                return None
        return compiled

    eligibility = _eligibility(raw.get("eligibility"), f, expr)
    terms = [t for t in f.items(raw.get("terms"), "terms") if _term_ok(t, f)]
    methods = [m for m in f.items(raw.get("methods"), "methods") if isinstance(m, str)]
    if loan is not None:
        for t in terms:
            if t not in loan.terms:
                f.bad(
                    "terms",
                    f"term {t} is not offered by loan product {loan.code} {list(loan.terms)}",
                )
        for m in methods:
            if m not in loan.methods:
                f.bad(
                    "methods",
                    f"method {m!r} is not offered by loan product {loan.code} {list(loan.methods)}",
                )
    limit = _limit(raw.get("limit"), f, expr, loan)
    fees = _fees(raw.get("fees"), f, loan)
    education = _lesson(raw.get("education"), f)
    perks = _perks(raw.get("perks"), f, expr)
    stages = _stages(raw.get("stages"), f, loan)

    score_model = raw.get("score_model")
    if score_model is not None and score_model not in SCORE_LABELS:
        f.bad("score_model", f"must be a registry label ({', '.join(SCORE_LABELS)}) or null")
        score_model = None

    pricing = f.mapping(raw.get("pricing"), "pricing")
    f.known_keys(
        pricing,
        frozenset({"grid", "relative_to", "factor", "discounts", "max_total_discount"}),
        "pricing",
    )
    discounts = _discounts(pricing.get("discounts"), f)
    max_total = f.decimal(
        pricing.get("max_total_discount"),
        "pricing.max_total_discount",
        default=sum((d.rate_off for d in discounts.values()), Decimal(0)),
    )
    grid: dict[str, dict[int, Decimal]] = {}
    if "grid" in pricing and "relative_to" in pricing:
        f.bad("pricing", "give either grid or relative_to + factor, not both")
    elif "grid" in pricing:
        grid = _grid(pricing["grid"], terms, f)
    elif "relative_to" not in pricing:
        f.bad("pricing.grid", "missing: a grid of grades A–E × terms (or relative_to + factor)")

    product = ScenarioProduct(
        code=code,
        name_zh=name.zh,
        name_en=name.en,
        loan_product=loan.code if loan else str(loan_code),
        sandbox=sandbox,
        regions=regions,
        data_sources=sources,
        education=education,
        eligibility=eligibility,
        terms=tuple(terms),
        methods=tuple(methods),
        limit=limit,
        grid=grid,
        discounts=discounts,
        max_total_discount=max_total,
        fees=fees,
        min_rate=loan.min_rate if loan else Decimal(0),
        perks=perks,
        score_model=score_model,
        stages=stages,
        source_file=f.name,
        _signals=tuple(sorted(used)),
    )
    return _Draft(product, f, pricing, loan)


def _term_ok(t: object, f: _File) -> bool:
    if isinstance(t, bool) or not isinstance(t, int) or not 1 <= t <= 360:
        f.bad("terms", f"{t!r} is not a month count 1–360")
        return False
    return True


def _regions(raw: object, sandbox: bool, f: _File) -> tuple[str, ...] | None:
    if raw is None:
        if sandbox:
            f.bad("regions", "a sandbox product must list its pilot regions (DOMAIN_RULES §7)")
        return None
    out: list[str] = []
    for i, item in enumerate(f.items(raw, "regions")):
        try:
            out.append(normalise_region(item, f"regions[{i}]"))
        except ValidationError as err:
            f.bad(err.field, err.reason)
    return tuple(out)


def _sources(raw: object, f: _File) -> tuple[DataSource, ...]:
    out: list[DataSource] = []
    allowed = frozenset({"name", "category", "third_party", "purpose", "label"})
    for i, item in enumerate(f.items(raw, "data_sources")):
        where = f"data_sources[{i}]"
        item = f.mapping(item, where)
        f.known_keys(item, allowed, where)
        name = item.get("name")
        if name not in SOURCES:
            f.bad(
                f"{where}.name",
                f"unknown data source {name!r} (known: {', '.join(sorted(SOURCES))})",
            )
            continue
        category = item.get("category")
        if category == Category.PROHIBITED:
            f.bad(f"{where}.category", "prohibited data may not be collected for credit")
        elif category not in (Category.ORDINARY, Category.SENSITIVE):
            f.bad(f"{where}.category", "must be ordinary or sensitive")
        elif SOURCES[name] is Category.SENSITIVE and category != Category.SENSITIVE:
            f.bad(
                f"{where}.category",
                f"{name} carries sensitive data: declare it sensitive (separate consent, PIPL Art. 29)",
            )
        third = item.get("third_party")
        if not isinstance(third, bool):
            f.bad(
                f"{where}.third_party",
                "must be true or false (third-party data needs a licensed channel)",
            )
            third = True
        purpose = item.get("purpose")
        if purpose not in PURPOSES:
            f.bad(f"{where}.purpose", f"must be one of {', '.join(PURPOSES)}")
        label = f.text(item.get("label"), f"{where}.label")
        if any(s.name == name for s in out):
            f.bad(f"{where}.name", f"data source {name} is declared twice")
        out.append(DataSource(str(name), str(category), third, str(purpose), label.zh, label.en))
    return tuple(out)


_ExprFn = Callable[[object, str, Kind], Expr | None]


def _eligibility(raw: object, f: _File, expr: _ExprFn) -> Eligibility:
    m = f.mapping(raw, "eligibility")
    f.known_keys(
        m,
        frozenset({"min_age", "max_age", "min_monthly_income", "segments", "rules"}),
        "eligibility",
    )
    min_age = f.integer(m.get("min_age"), "eligibility.min_age", 18)
    max_age = f.integer(m.get("max_age"), "eligibility.max_age", 65)
    if min_age < 18:
        f.bad("eligibility.min_age", "borrowers must be adults (18 or older)")
    if max_age < min_age:
        f.bad("eligibility.max_age", f"{max_age} is below min_age {min_age}")
    income = m.get("min_monthly_income")
    income_fen = None if income is None else f.yuan(income, "eligibility.min_monthly_income", "0")
    segments = f.items(m.get("segments"), "eligibility.segments")
    for s in segments:
        if s not in SEGMENTS:
            f.bad("eligibility.segments", f"unknown segment {s!r} (known: {', '.join(SEGMENTS)})")
    rules: list[Rule] = []
    for i, item in enumerate(f.items(m.get("rules"), "eligibility.rules", required=False)):
        where = f"eligibility.rules[{i}]"
        item = f.mapping(item, where)
        f.known_keys(item, frozenset({"require", "reason", "code"}), where)
        compiled = expr(item.get("require"), f"{where}.require", "bool")
        reason = _reason(f, item, where, str(item.get("code", f"rule-{i + 1}")))
        if compiled is not None:
            rules.append(Rule(compiled, reason))
    return Eligibility(min_age, max_age, income_fen, tuple(str(s) for s in segments), tuple(rules))


def _limit(raw: object, f: _File, expr: _ExprFn, loan: LoanProduct | None) -> LimitRule:
    m = f.mapping(raw, "limit")
    f.known_keys(
        m,
        frozenset({"formula", "explain", "min", "max", "round_down_to", "adjustments", "warnings"}),
        "limit",
    )
    formula = expr(m.get("formula"), "limit.formula", "number")
    explain = f.text(m.get("explain"), "limit.explain")
    min_fen = f.yuan(m.get("min"), "limit.min", "0")
    max_fen = f.yuan(m.get("max"), "limit.max", "0")
    step = f.yuan(m.get("round_down_to"), "limit.round_down_to", "100")
    if max_fen <= 0:
        f.bad("limit.max", "must be a positive amount (yuan)")
    if min_fen > max_fen:
        f.bad("limit.min", "must not be above limit.max")
    if step <= 0:
        f.bad("limit.round_down_to", "must be a positive amount (yuan)")
        step = 1
    if loan is not None and max_fen > loan.max_principal:
        f.bad(
            "limit.max",
            f"{max_fen // 100} exceeds loan product {loan.code}'s max principal "
            f"{loan.max_principal // 100}",
        )
    adjustments: list[Adjustment] = []
    for i, item in enumerate(f.items(m.get("adjustments"), "limit.adjustments", required=False)):
        where = f"limit.adjustments[{i}]"
        item = f.mapping(item, where)
        f.known_keys(item, frozenset({"when", "multiply", "flag", "reason"}), where)
        when = expr(item.get("when"), f"{where}.when", "bool")
        factor = f.decimal(item.get("multiply"), f"{where}.multiply")
        if not Decimal(0) < factor <= Decimal(2):
            f.bad(f"{where}.multiply", "must be a factor in (0, 2]")
        flag = _flag(item.get("flag"), f, f"{where}.flag")
        reason = _reason(f, item, where, flag)
        if when is not None:
            adjustments.append(Adjustment(when, factor, flag, reason))
    warnings: list[LimitWarning] = []
    for i, item in enumerate(f.items(m.get("warnings"), "limit.warnings", required=False)):
        where = f"limit.warnings[{i}]"
        item = f.mapping(item, where)
        f.known_keys(item, frozenset({"when", "flag", "freeze_new_draws", "reason"}), where)
        when = expr(item.get("when"), f"{where}.when", "bool")
        flag = _flag(item.get("flag"), f, f"{where}.flag")
        freeze = item.get("freeze_new_draws", False)
        if not isinstance(freeze, bool):
            f.bad(f"{where}.freeze_new_draws", "must be true or false")
            freeze = False
        reason = _reason(f, item, where, flag)
        if when is not None:
            warnings.append(LimitWarning(when, flag, freeze, reason))
    if formula is None:
        formula = compile_expr("0", {}, want="number")
    return LimitRule(formula, explain, min_fen, max_fen, step, tuple(adjustments), tuple(warnings))


def _flag(raw: object, f: _File, field: str) -> str:
    if not isinstance(raw, str) or not _SLUG.fullmatch(raw):
        f.bad(field, "must be a lower-case slug such as peak-season-uplift")
        return "invalid"
    return raw


def _fees(raw: object, f: _File, loan: LoanProduct | None) -> Fees:
    m = f.mapping(raw, "fees", required=False)
    f.known_keys(
        m, frozenset({"monthly_rate", "upfront_rate", "prepayment_rate", "late_fee"}), "fees"
    )
    declared = Fees(
        f.decimal(m.get("monthly_rate"), "fees.monthly_rate", default=Decimal(0)),
        f.decimal(m.get("upfront_rate"), "fees.upfront_rate", default=Decimal(0)),
        f.decimal(m.get("prepayment_rate"), "fees.prepayment_rate", default=Decimal(0)),
        f.yuan(m.get("late_fee"), "fees.late_fee", "0"),
    )
    if loan is None:
        return declared
    actual = Fees.of(loan)
    for name in ("monthly_rate", "upfront_rate", "prepayment_rate", "late_fee_fen"):
        mine, theirs = getattr(declared, name), getattr(actual, name)
        if mine != theirs:
            key = "late_fee" if name == "late_fee_fen" else name
            f.bad(
                f"fees.{key}",
                f"{mine} differs from loan product {loan.code}'s {theirs}: the servicing core "
                "charges the loan product's fees, so the file must state them as they are",
            )
    return actual


def _lesson(raw: object, f: _File) -> Lesson:
    m = f.mapping(raw, "education")
    f.known_keys(
        m,
        frozenset({"lesson_id", "title", "min_watch_seconds", "quiz", "pass_mark", "video"}),
        "education",
    )
    lesson_id = m.get("lesson_id")
    if not isinstance(lesson_id, str) or not _SLUG.fullmatch(lesson_id):
        f.bad("education.lesson_id", "must be a lower-case slug")
        lesson_id = "invalid"
    title = f.text(m.get("title"), "education.title")
    seconds = f.integer(m.get("min_watch_seconds"), "education.min_watch_seconds", 300)
    if seconds < MIN_LESSON_SECONDS:
        f.bad(
            "education.min_watch_seconds",
            f"{seconds} s is too short to teach anything (≥ {MIN_LESSON_SECONDS} s; default 300 s)",
        )
    quiz: list[QuizItem] = []
    for i, item in enumerate(f.items(m.get("quiz"), "education.quiz")):
        where = f"education.quiz[{i}]"
        item = f.mapping(item, where)
        f.known_keys(item, frozenset({"question", "choices", "answer"}), where)
        question = f.text(item.get("question"), f"{where}.question")
        choices = [
            f.text(c, f"{where}.choices[{j}]")
            for j, c in enumerate(f.items(item.get("choices"), f"{where}.choices"))
        ]
        if len(choices) < 2:
            f.bad(f"{where}.choices", "a quiz question needs at least two choices")
        answer = item.get("answer")
        if (
            isinstance(answer, bool)
            or not isinstance(answer, int)
            or not 0 <= answer < len(choices)
        ):
            f.bad(
                f"{where}.answer", f"must be the index (0–{len(choices) - 1}) of the right choice"
            )
            answer = 0
        quiz.append(QuizItem(question.zh, question.en, tuple(choices), answer))
    pass_mark = f.integer(m.get("pass_mark"), "education.pass_mark", len(quiz), low=1)
    if quiz and pass_mark > len(quiz):
        f.bad("education.pass_mark", f"{pass_mark} is more than the {len(quiz)} questions")
    video = m.get("video", "")
    return Lesson(
        lesson_id=str(lesson_id),
        title_zh=title.zh,
        min_watch_seconds=seconds,
        quiz=tuple(quiz),
        pass_mark=pass_mark,
        title_en=title.en,
        video=str(video),
    )


def _perks(raw: object, f: _File, expr: _ExprFn) -> tuple[Perk, ...]:
    out: list[Perk] = []
    for i, item in enumerate(f.items(raw, "perks", required=False)):
        where = f"perks[{i}]"
        item = f.mapping(item, where)
        f.known_keys(item, frozenset({"code", "label", "when", "valid_days"}), where)
        code = _flag(item.get("code"), f, f"{where}.code")
        label = f.text(item.get("label"), f"{where}.label")
        when = expr(item.get("when"), f"{where}.when", "bool")
        days = f.integer(item.get("valid_days"), f"{where}.valid_days", 90, low=1)
        if when is not None:
            out.append(Perk(code, label.zh, label.en, when, days))
    return tuple(out)


def _stages(raw: object, f: _File, loan: LoanProduct | None) -> tuple[Stage, ...]:
    items = f.items(raw, "stages", required=False)
    if not items:
        return ()
    if loan is not None and not loan.multi_tranche:
        f.bad("stages", f"loan product {loan.code} is not multi-tranche; stages need one that is")
    out: list[Stage] = []
    for i, item in enumerate(items):
        where = f"stages[{i}]"
        item = f.mapping(item, where)
        f.known_keys(item, frozenset({"code", "share", "attestation", "label"}), where)
        code = _flag(item.get("code"), f, f"{where}.code")
        share = f.decimal(item.get("share"), f"{where}.share")
        attestation = _flag(item.get("attestation"), f, f"{where}.attestation")
        label = f.text(item.get("label"), f"{where}.label")
        if share <= 0:
            f.bad(f"{where}.share", "must be positive")
        out.append(Stage(code, share, attestation, label.zh, label.en))
    total = sum((s.share for s in out), Decimal(0))
    if total != 1:
        f.bad("stages", f"the shares add up to {total}, not 1")
    return tuple(out)


def _discounts(raw: object, f: _File) -> dict[str, Discount]:
    out: dict[str, Discount] = {}
    for code, item in f.mapping(raw, "pricing.discounts", required=False).items():
        where = f"pricing.discounts.{code}"
        if not isinstance(code, str) or not _SLUG.fullmatch(code):
            f.bad(where, "a discount code must be a lower-case slug")
            continue
        item = f.mapping(item, where)
        f.known_keys(item, frozenset({"rate_off", "label"}), where)
        off = f.decimal(item.get("rate_off"), f"{where}.rate_off")
        if off <= 0 or off >= Decimal("0.1"):
            f.bad(f"{where}.rate_off", "must be a rate reduction between 0 and 0.1 (10 points)")
        out[code] = Discount(code, off, f.text(item.get("label"), f"{where}.label"))
    return out


def _grid(raw: object, terms: list[int], f: _File) -> dict[str, dict[int, Decimal]]:
    m = f.mapping(raw, "pricing.grid")
    grid: dict[str, dict[int, Decimal]] = {}
    for grade in m:
        if grade not in GRADES:
            f.bad(f"pricing.grid.{grade}", f"unknown risk grade (grades are {', '.join(GRADES)})")
    for grade in GRADES:
        row = m.get(grade)
        if row is None:
            f.bad(f"pricing.grid.{grade}", "missing: every grade A–E needs a row")
            continue
        cells: Mapping[Any, Any] = f.mapping(row, f"pricing.grid.{grade}")
        for key in cells:
            if key not in terms:
                f.bad(f"pricing.grid.{grade}.{key}", f"term {key} is not in the product's terms")
        grid[grade] = {}
        for term in terms:
            if term not in cells:
                f.bad(f"pricing.grid.{grade}.{term}", "missing: every grade × term needs a rate")
                continue
            grid[grade][term] = f.decimal(cells[term], f"pricing.grid.{grade}.{term}")
    return grid


def _check_grid(draft: _Draft) -> None:
    """Rates against the loan product's bounds and, with the fees, against the all-in cap."""
    p, f, loan = draft.product, draft.file, draft.loan
    if loan is None:
        return
    cap = min(ALL_IN_CAP, loan.all_in_cap)
    for grade, row in p.grid.items():
        for term, rate in row.items():
            where = f"pricing.grid.{grade}.{term}"
            if not loan.min_rate <= rate <= loan.max_rate:
                f.bad(
                    where,
                    f"rate {rate} is outside loan product {loan.code}'s range "
                    f"{loan.min_rate}–{loan.max_rate}",
                )
            fee_eq = fee_equivalent_rate(p.fees, term)
            if rate + fee_eq > cap:
                f.bad(
                    where,
                    f"rate {rate} + fee-equivalent {fee_eq} = {rate + fee_eq} exceeds the "
                    f"all-in cap {cap}",
                )


def _resolve_relative(draft: _Draft, drafts: Mapping[str, _Draft]) -> None:
    pricing, f, p = draft.raw_pricing, draft.file, draft.product
    if "relative_to" not in pricing or "grid" in pricing:
        return
    base_code = pricing.get("relative_to")
    base = drafts.get(base_code) if isinstance(base_code, str) else None
    factor = f.decimal(pricing.get("factor"), "pricing.factor")
    if not Decimal(0) < factor <= Decimal(1):
        f.bad("pricing.factor", "must be in (0, 1]: a relative price is a reduction")
    if base is None:
        f.bad("pricing.relative_to", f"unknown catalogue product {base_code!r}")
        return
    if base.file.findings:
        f.bad("pricing.relative_to", f"{base_code} ({base.file.name}) is invalid; fix it first")
        return
    if "grid" not in base.raw_pricing:
        f.bad(
            "pricing.relative_to",
            f"{base_code} is itself priced relatively; name a product with a grid",
        )
        return
    grid: dict[str, dict[int, Decimal]] = {}
    for grade in GRADES:
        grid[grade] = {}
        for term in p.terms:
            if term not in base.product.grid.get(grade, {}):
                f.bad("pricing.relative_to", f"{base_code} has no rate for {grade} × {term} months")
                continue
            # Decimal × Decimal of short decimals is exact (no context rounding at these sizes)
            grid[grade][term] = base.product.grid[grade][term] * factor
    draft.product = replace(p, grid=grid, priced_relative_to=(str(base_code), factor))


def parse_files(
    texts: Mapping[str, str], loan_products: Mapping[str, LoanProduct]
) -> tuple[dict[str, ScenarioProduct], list[CatalogueFinding]]:
    """Parse and validate file texts (name → YAML); return the products and every finding."""
    drafts: dict[str, _Draft] = {}
    files: list[_File] = []
    for name in sorted(texts):
        f = _File(name)
        files.append(f)
        try:
            raw = yaml.load(texts[name], Loader=_LOADER)
        except yaml.YAMLError as err:
            f.bad("(file)", f"not valid YAML: {err}")
            continue
        if not isinstance(raw, Mapping):
            f.bad("(file)", "a product file must hold a mapping")
            continue
        draft = _parse(raw, f, loan_products)
        code = draft.product.code
        if code in drafts:
            f.bad("code", f"duplicate product code {code!r} (also in {drafts[code].file.name})")
            continue
        drafts[code] = draft
    for draft in drafts.values():
        _resolve_relative(draft, drafts)
    for draft in drafts.values():
        _check_grid(draft)
    findings = [x for f in files for x in f.findings]
    return {c: d.product for c, d in drafts.items()}, findings


def shipped_files_dir() -> Path:
    return Path(__file__).parent / "files"


def read_files(directory: Path) -> dict[str, str]:
    if not directory.is_dir():
        raise ValidationError("path", f"{directory} is not a directory of product files")
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yaml"))}


def load_products(
    directory: Path | None = None, loan_products: Mapping[str, LoanProduct] | None = None
) -> dict[str, ScenarioProduct]:
    """Every product file in ``directory`` (default: shipped), validated; raises ``CatalogueError``."""
    loans = load_loan_products() if loan_products is None else loan_products
    products, findings = parse_files(read_files(directory or shipped_files_dir()), loans)
    if findings:
        raise CatalogueError(findings)
    if not products:
        raise CatalogueError(
            [CatalogueFinding(str(directory), "(directory)", "holds no *.yaml product files")]
        )
    return products
