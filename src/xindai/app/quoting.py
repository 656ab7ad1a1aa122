"""The quote use case: a schedule, its APR from the borrower's real cash flows, and the cap check.

Pure (no I/O): the CLI (``xindai loan quote``) and the API (``POST /v1/quotes``) parse their input
with ``parse_quote_request``, call ``build_quote`` and print ``quote_to_dict``; a quote above the cap
is refused with ``ensure_within_cap``.

Cash flows for the APR (DOMAIN_RULES §1): the borrower receives principal − upfront_fee at the
start and pays each instalment's total (principal + interest + fee) on its due date. Payments are
placed on the monthly grid by ``period_months`` from the start, so a bullet pays once after ``term``
periods and an irregular first period enters as a simple-interest stub (1 + r·f).

Upfront fees (砍头息) are refused by the product layer by default; a quote may still show one so that
its effect on the APR is visible, with a warning finding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from xindai.compliance.apr import AprResult, apr_from_cashflows
from xindai.compliance.caps import CostCaps, check_all_in_cap, disclosed
from xindai.kernel.errors import ValidationError
from xindai.kernel.findings import Finding, Severity, raise_if_errors
from xindai.money.daycount import DayCount
from xindai.money.money import format_yuan, parse_yuan
from xindai.money.rates import parse_rate
from xindai.servicing.schedule import (
    MAX_TERM,
    RepaymentMethod,
    Schedule,
    ScheduleTerms,
    build_schedule,
    period_months,
    validate_schedule_request,
)

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TERM_RE = re.compile(r"[0-9]+")
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteRequest:
    """What a prospective borrower asks for. Amounts in fen, rates as Decimal fractions."""

    principal: int
    term: int
    method: RepaymentMethod
    annual_rate: Decimal
    upfront_fee: int = 0
    monthly_fee_rate: Decimal = Decimal(0)
    start_date: date
    first_due_date: date | None = None
    daily_interest: bool = False
    day_count: DayCount = DayCount.ACT_360


@dataclass(frozen=True, slots=True)
class Quote:
    """A priced offer: the schedule, its APR, and whether it is within the all-in cap."""

    request: QuoteRequest
    schedule: Schedule
    apr: AprResult
    within_cap: bool
    findings: tuple[Finding, ...]
    net_proceeds: int = 0


# -- parsing ----------------------------------------------------------------------------------------


def _present(raw: Mapping[str, object], key: str) -> bool:
    return raw.get(key) is not None


def _parse_term(value: object) -> int:
    if isinstance(value, bool | float):
        raise ValidationError("term", "must be a whole number of months, not a float or bool")
    if isinstance(value, int):
        term = value
    elif isinstance(value, str) and _TERM_RE.fullmatch(value.strip()):
        term = int(value.strip())
    else:
        raise ValidationError("term", f"must be a whole number of months, got {value!r}")
    if term <= 0:
        raise ValidationError("term", "must be at least 1 month")
    if term > MAX_TERM:
        raise ValidationError("term", f"must be at most {MAX_TERM} months")
    return term


def _parse_date(value: object, field: str) -> date:
    if isinstance(value, datetime):
        raise ValidationError(field, "must be a date (YYYY-MM-DD), not a timestamp")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(field, f"must be a date as YYYY-MM-DD, got {value!r}")


def _parse_bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValidationError(field, f"must be true or false, got {value!r}")


def _parse_method(value: object) -> RepaymentMethod:
    if isinstance(value, RepaymentMethod):
        return value
    if isinstance(value, str):
        try:
            return RepaymentMethod(value.strip())
        except ValueError:
            pass
    choices = ", ".join(m.value for m in RepaymentMethod)
    raise ValidationError("method", f"unknown method {value!r}; expected one of {choices}")


def parse_quote_request(
    raw: Mapping[str, object], *, default_start_date: date | None = None
) -> QuoteRequest:
    """Parse CLI/API input into a ``QuoteRequest``; raise ``ValidationError`` naming the field.

    Keys: ``principal`` and ``upfront_fee`` in yuan ("10000", "10000.50", an int or a Decimal —
    never a float), ``term`` (months), ``method``, ``annual_rate`` and ``monthly_fee_rate`` (decimal
    fractions as strings, "0.12"), ``start_date`` and ``first_due_date`` ("YYYY-MM-DD"),
    ``daily_interest`` (true/false), ``day_count`` ("ACT/360", "ACT/365", "30/360"). ``None`` values
    count as absent; ``start_date`` falls back to ``default_start_date`` (the caller's business
    date). Unknown keys are ignored.
    """
    for key in ("principal", "term", "method", "annual_rate"):
        if not _present(raw, key):
            raise ValidationError(key, "is required")
    principal = parse_yuan(raw["principal"], "principal")
    if principal <= 0:
        raise ValidationError("principal", "must be positive")
    term = _parse_term(raw["term"])
    method = _parse_method(raw["method"])
    annual_rate = parse_rate(raw["annual_rate"], "annual_rate")
    upfront_fee = (
        parse_yuan(raw["upfront_fee"], "upfront_fee") if _present(raw, "upfront_fee") else 0
    )
    if upfront_fee < 0:
        raise ValidationError("upfront_fee", "must not be negative")
    if upfront_fee >= principal:
        raise ValidationError("upfront_fee", "must be less than the principal")
    monthly_fee_rate = (
        parse_rate(raw["monthly_fee_rate"], "monthly_fee_rate")
        if _present(raw, "monthly_fee_rate")
        else Decimal(0)
    )
    if _present(raw, "start_date"):
        start_date = _parse_date(raw["start_date"], "start_date")
    elif default_start_date is not None:
        start_date = _parse_date(default_start_date, "start_date")
    else:
        raise ValidationError("start_date", "is required")
    first_due_date = (
        _parse_date(raw["first_due_date"], "first_due_date")
        if _present(raw, "first_due_date")
        else None
    )
    daily_interest = (
        _parse_bool(raw["daily_interest"], "daily_interest")
        if _present(raw, "daily_interest")
        else False
    )
    day_count = DayCount.ACT_360
    if _present(raw, "day_count"):
        try:
            day_count = DayCount(str(raw["day_count"]).strip())
        except ValueError:
            choices = ", ".join(d.value for d in DayCount)
            raise ValidationError(
                "day_count", f"unknown day count {raw['day_count']!r}; expected one of {choices}"
            ) from None
    req = QuoteRequest(
        principal=principal,
        term=term,
        method=method,
        annual_rate=annual_rate,
        upfront_fee=upfront_fee,
        monthly_fee_rate=monthly_fee_rate,
        start_date=start_date,
        first_due_date=first_due_date,
        daily_interest=daily_interest,
        day_count=day_count,
    )
    raise_if_errors(
        validate_schedule_request(
            principal=principal,
            term=term,
            terms=_terms_of(req),  # a rate out of range raises here, named
            start_date=start_date,
            first_due_date=first_due_date,
        )
    )
    return req


# -- pricing ----------------------------------------------------------------------------------------


def _terms_of(req: QuoteRequest) -> ScheduleTerms:
    return ScheduleTerms(
        annual_rate=req.annual_rate,
        method=req.method,
        monthly_fee_rate=req.monthly_fee_rate,
        day_count=req.day_count,
        daily_interest=req.daily_interest,
    )


def _cash_flow_grid(req: QuoteRequest, schedule: Schedule) -> tuple[list[int], Fraction | None]:
    """Instalment totals placed on the monthly grid, and the stub of the first period if any."""
    items = schedule.installments
    first = period_months(req.start_date, items[0].due_date, req.day_count)
    whole = first.numerator // first.denominator
    stub = first - whole
    # with a stub the first payment sits at grid index whole+1, discounted (1+r)^whole·(1+r·stub)
    offset = whole if stub else whole - 1
    payments = [0] * (offset + len(items))
    for j, inst in enumerate(items):
        payments[offset + j] += inst.total
    return payments, (stub if stub else None)


def _blame(req: QuoteRequest, caps: CostCaps) -> str:
    """The input to change when a quote is above the cap."""
    if req.annual_rate > caps.all_in_annual:
        return "annual_rate"
    if req.upfront_fee > 0:
        return "upfront_fee"
    if req.monthly_fee_rate > 0:
        return "monthly_fee_rate"
    return "annual_rate"


def build_quote(req: QuoteRequest, caps: CostCaps = CostCaps()) -> Quote:
    """Price ``req``: its schedule, the APR of the borrower's cash flows, the cap findings."""
    if not isinstance(req, QuoteRequest):
        raise ValidationError("request", "must be a QuoteRequest")
    if isinstance(req.upfront_fee, bool) or not isinstance(req.upfront_fee, int):
        raise ValidationError("upfront_fee", "must be an integer number of fen")
    if req.upfront_fee < 0:
        raise ValidationError("upfront_fee", "must not be negative")
    schedule = build_schedule(
        principal=req.principal,
        term=req.term,
        terms=_terms_of(req),
        start_date=req.start_date,
        first_due_date=req.first_due_date,
    )
    net = req.principal - req.upfront_fee
    if net <= 0:
        raise ValidationError("upfront_fee", "must be less than the principal")
    payments, stub = _cash_flow_grid(req, schedule)
    apr = apr_from_cashflows(net, payments, periods_per_year=12, first_period_fraction=stub)
    cap_findings = check_all_in_cap(apr.apr_simple, caps, field_name=_blame(req, caps))
    findings = list(cap_findings)
    if req.upfront_fee:
        findings.append(
            Finding(
                "upfront_fee",
                "deducted at disbursement (砍头息, Civil Code 670): the APR is computed on the "
                "net amount received; products refuse upfront fees by default",
                Severity.WARNING,
            )
        )
    if req.method is RepaymentMethod.FLAT_FEE and req.annual_rate:
        findings.append(
            Finding(
                "annual_rate",
                "flat-fee plans charge no interest; the cost is monthly_fee_rate",
                Severity.WARNING,
            )
        )
    return Quote(
        request=req,
        schedule=schedule,
        apr=apr,
        within_cap=not cap_findings,
        findings=tuple(findings),
        net_proceeds=net,
    )


def ensure_within_cap(q: Quote) -> None:
    """Raise ``ValidationError`` (naming the input to change) when the quote is above the cap."""
    for finding in q.findings:
        if finding.severity is Severity.ERROR:
            raise ValidationError(finding.field, finding.message)
    if not q.within_cap:
        raise ValidationError("annual_rate", f"all-in APR {q.apr.apr_simple} exceeds the cap")


# -- presentation -----------------------------------------------------------------------------------


def _fraction_str(value: Decimal, places: str) -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def quote_to_dict(q: Quote) -> dict[str, object]:
    """The quote contract (issue 2): amounts as yuan strings with two decimals, APRs as decimal
    fractions with four decimals rounded half-up, ``within_cap`` a bool.

    ``total_fees`` is the sum of the instalments' fees (the schedule); an upfront fee is reported
    on its own (``upfront_fee``) and counted in ``total_cost`` = interest + fees + upfront fee.
    """
    req = q.request
    schedule = q.schedule
    return {
        "principal": format_yuan(req.principal),
        "term": req.term,
        "method": req.method.value,
        "annual_rate": str(req.annual_rate),
        "upfront_fee": format_yuan(req.upfront_fee),
        "monthly_fee_rate": str(req.monthly_fee_rate),
        "start_date": req.start_date.isoformat(),
        "net_proceeds": format_yuan(q.net_proceeds),
        "installments": [
            {
                "period": i.period,
                "start_date": i.start_date.isoformat(),
                "due_date": i.due_date.isoformat(),
                "principal": format_yuan(i.principal),
                "interest": format_yuan(i.interest),
                "fee": format_yuan(i.fee),
                "total": format_yuan(i.total),
                "balance_after": format_yuan(i.balance_after),
            }
            for i in schedule.installments
        ],
        "total_principal": format_yuan(schedule.total_principal),
        "total_interest": format_yuan(schedule.total_interest),
        "total_fees": format_yuan(schedule.total_fees),
        "total_repayment": format_yuan(schedule.total),
        "total_cost": format_yuan(schedule.total_interest + schedule.total_fees + req.upfront_fee),
        "monthly_irr": _fraction_str(q.apr.periodic_rate, "0.000001"),
        "apr_simple": str(disclosed(q.apr.apr_simple)),
        "apr_compound": str(disclosed(q.apr.apr_compound)),
        "within_cap": q.within_cap,
        "findings": [
            {"field": f.field, "message": f.message, "severity": f.severity.value}
            for f in q.findings
        ],
    }
