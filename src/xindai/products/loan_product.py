"""Loan products as data: one validated YAML/JSON file per product.

A ``LoanProduct`` fixes the servicing terms of every loan made under it: currency, rate bounds,
terms, repayment methods, day count, fees, penalty uplift, grace days, repayment allocation order,
write-off DPD and the all-in cost cap. ``validate_product`` returns every problem at once as
``Finding``s; ``load_product`` raises with all of them. Upfront fees (砍头息, Civil Code 670) are
refused unless a product explicitly allows them — and even then the APR uses the net proceeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from xindai.kernel.errors import ValidationError
from xindai.kernel.findings import Finding, raise_if_errors
from xindai.money.daycount import DayCount
from xindai.money.money import parse_yuan

REPAYMENT_METHODS = ("equal-installment", "equal-principal", "interest-only", "bullet", "flat-fee")
COMPONENTS = ("penalty", "fee", "interest", "principal")
DEFAULT_ALLOCATION = COMPONENTS


@dataclass(frozen=True, slots=True)
class LoanProduct:
    code: str
    name_zh: str
    name_en: str
    currency: str
    annual_rate: Decimal  # default contract rate
    min_rate: Decimal
    max_rate: Decimal
    terms: tuple[int, ...]
    methods: tuple[str, ...]
    day_count: DayCount
    daily_interest: bool
    min_principal: int  # fen
    max_principal: int  # fen
    upfront_fee_rate: Decimal
    allow_upfront_fee: bool
    monthly_fee_rate: Decimal
    prepayment_fee_rate: Decimal  # on principal prepaid
    late_fee: int  # fen, once per instalment that becomes overdue
    penalty_uplift: Decimal  # penalty rate = contract rate × (1 + uplift)
    grace_days: int
    allocation_order: tuple[str, ...]
    write_off_dpd: int
    all_in_cap: Decimal
    multi_tranche: bool

    @property
    def penalty_rate(self) -> Decimal:
        return self.annual_rate * (1 + self.penalty_uplift)


def _dec(raw: Mapping[str, Any], key: str, default: str, findings: list[Finding]) -> Decimal:
    value = raw.get(key, default)
    if isinstance(value, float | bool):
        findings.append(Finding(key, "must be a decimal string (quote it), not a float"))
        return Decimal(default)
    try:
        dec = Decimal(str(value))
    except InvalidOperation:
        findings.append(Finding(key, f"{value!r} is not a decimal number"))
        return Decimal(default)
    if not dec.is_finite() or dec < 0:
        findings.append(Finding(key, "must be a finite non-negative decimal"))
        return Decimal(default)
    return dec


def _int(raw: Mapping[str, Any], key: str, default: int, findings: list[Finding]) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        findings.append(Finding(key, f"must be a non-negative integer, got {value!r}"))
        return default
    return value


def _fen(raw: Mapping[str, Any], key: str, default: str, findings: list[Finding]) -> int:
    value = raw.get(key, default)
    try:
        return parse_yuan(value if isinstance(value, float | bool) else str(value), key)
    except ValidationError as err:
        findings.append(Finding(key, err.reason))
        return parse_yuan(default)


def parse_product(raw: Mapping[str, Any]) -> tuple[LoanProduct | None, list[Finding]]:
    """Validate a product mapping; return the product (if it is usable) and every finding."""
    f: list[Finding] = []
    code = raw.get("code")
    if not isinstance(code, str) or not code or not code.replace("-", "").isalnum():
        f.append(Finding("code", "must be a non-empty slug of letters, digits and dashes"))
        code = "invalid"
    name = raw.get("name") or {}
    if not isinstance(name, Mapping) or not name.get("zh") or not name.get("en"):
        f.append(Finding("name", "needs both zh and en names"))
        name = {"zh": "", "en": ""}
    currency = raw.get("currency", "CNY")
    if currency != "CNY":
        f.append(Finding("currency", f"only CNY is supported, got {currency!r}"))
    rate = _dec(raw, "annual_rate", "0", f)
    min_rate = _dec(raw, "min_rate", str(rate), f)
    max_rate = _dec(raw, "max_rate", str(rate), f)
    cap = _dec(raw, "all_in_cap", "0.24", f)
    if not min_rate <= rate <= max_rate:
        f.append(
            Finding("annual_rate", f"{rate} is outside [min_rate {min_rate}, max_rate {max_rate}]")
        )
    if max_rate > cap:
        f.append(Finding("max_rate", f"{max_rate} exceeds the all-in cap {cap}"))
    if cap > Decimal("0.24"):
        f.append(Finding("all_in_cap", f"{cap} is above the 24% regulatory line (金规〔2025〕9号)"))
    terms = raw.get("terms", [])
    if (
        not isinstance(terms, list)
        or not terms
        or not all(isinstance(t, int) and not isinstance(t, bool) and 1 <= t <= 360 for t in terms)
    ):
        f.append(Finding("terms", "must be a non-empty list of month counts between 1 and 360"))
        terms = [1]
    methods = raw.get("methods", [])
    if not isinstance(methods, list) or not methods:
        f.append(Finding("methods", "must be a non-empty list"))
        methods = []
    for m in methods:
        if m not in REPAYMENT_METHODS:
            f.append(
                Finding(
                    "methods",
                    f"unknown repayment method {m!r}; known: {', '.join(REPAYMENT_METHODS)}",
                )
            )
    try:
        day_count = DayCount(raw.get("day_count", "ACT/360"))
    except ValueError:
        f.append(Finding("day_count", f"must be one of {', '.join(d.value for d in DayCount)}"))
        day_count = DayCount.ACT_360
    fees = raw.get("fees", {}) or {}
    if not isinstance(fees, Mapping):
        f.append(Finding("fees", "must be a mapping"))
        fees = {}
    upfront = _dec(fees, "upfront_rate", "0", f)
    allow_upfront = bool(fees.get("allow_upfront", False))
    if upfront > 0 and not allow_upfront:
        f.append(
            Finding(
                "fees.upfront_rate",
                "upfront deduction (砍头息) is refused; set allow_upfront only with legal sign-off",
            )
        )
    order = tuple(raw.get("allocation_order", DEFAULT_ALLOCATION))
    if sorted(order) != sorted(COMPONENTS):
        f.append(Finding("allocation_order", f"must be a permutation of {', '.join(COMPONENTS)}"))
        order = DEFAULT_ALLOCATION
    uplift = _dec(raw, "penalty_uplift", "0.5", f)
    if not Decimal("0.3") <= uplift <= Decimal("0.5"):
        f.append(
            Finding(
                "penalty_uplift",
                "licensed lenders charge contract rate +30% to +50% (DOMAIN_RULES §3)",
            )
        )
    grace = _int(raw, "grace_days", 3, f)
    if grace > 3:
        f.append(Finding("grace_days", "contractual grace is 0–3 days"))
    min_p = _fen(raw, "min_principal", "100", f)
    max_p = _fen(raw, "max_principal", "200000", f)
    if not 0 < min_p <= max_p:
        f.append(Finding("min_principal", "must be positive and not above max_principal"))
    if max_p > parse_yuan("200000") and raw.get("segment", "consumer") == "consumer":
        f.append(
            Finding("max_principal", "online consumer credit is capped at 200,000 per household")
        )
    product = LoanProduct(
        code=str(code),
        name_zh=str(name.get("zh", "")),
        name_en=str(name.get("en", "")),
        currency="CNY",
        annual_rate=rate,
        min_rate=min_rate,
        max_rate=max_rate,
        terms=tuple(terms),
        methods=tuple(methods),
        day_count=day_count,
        daily_interest=bool(raw.get("daily_interest", False)),
        min_principal=min_p,
        max_principal=max_p,
        upfront_fee_rate=upfront,
        allow_upfront_fee=allow_upfront,
        monthly_fee_rate=_dec(fees, "monthly_rate", "0", f),
        prepayment_fee_rate=_dec(fees, "prepayment_rate", "0", f),
        late_fee=_fen(fees, "late_fee", "0", f),
        penalty_uplift=uplift,
        grace_days=grace,
        allocation_order=order,
        write_off_dpd=_int(raw, "write_off_dpd", 180, f),
        all_in_cap=cap,
        multi_tranche=bool(raw.get("multi_tranche", False)),
    )
    return (product if not any(x.severity == "error" for x in f) else None), f


def load_product(path: Path) -> LoanProduct:
    """Load and validate one product file; raise ``ValidationError`` listing every problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValidationError(str(path), f"not valid YAML: {err}") from None
    if not isinstance(raw, Mapping):
        raise ValidationError(str(path), "a product file must hold a mapping")
    product, findings = parse_product(raw)
    raise_if_errors(findings)
    assert product is not None
    return product


def shipped_products_dir() -> Path:
    return Path(__file__).parent / "loan_products"


def load_catalogue(directory: Path | None = None) -> dict[str, LoanProduct]:
    """Every product file (``*.yaml``) in ``directory`` (default: the shipped ones), by code."""
    out: dict[str, LoanProduct] = {}
    for path in sorted((directory or shipped_products_dir()).glob("*.yaml")):
        product = load_product(path)
        if product.code in out:
            raise ValidationError("code", f"duplicate product code {product.code!r} in {path.name}")
        out[product.code] = product
    return out
