"""Cost caps (DOMAIN_RULES §2): the all-in 24% line, the 36% line, and 4 × LPR for private lending.

* Licensed lenders must not offer a loan whose all-in annualised cost (interest + every fee +
  penalties + credit enhancement), computed as APR 单利 by the IRR method, exceeds 24%.
* 36% is the criminal line for illegal lending: never reachable; a quote above it is reported twice.
* Private lending (not licensed lenders) is capped at 4 × the one-year LPR on the contract date.

The APR is compared at the precision it is disclosed at (``CostCaps.disclosure_quantum``, one basis
point, rounded half-up): a product priced at exactly 24% must not be refused because fen rounding
of its instalments adds 1e-7 to the IRR. All figures are configuration with these defaults.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from xindai.kernel.errors import ValidationError
from xindai.kernel.findings import Finding, Severity


def _percent(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f")


@dataclass(frozen=True, slots=True)
class CostCaps:
    """The caps a quote or offer is checked against (annual fractions: 0.24 = 24%)."""

    all_in_annual: Decimal = Decimal("0.24")
    criminal_line: Decimal = Decimal("0.36")
    disclosure_quantum: Decimal = Decimal("0.0001")

    def __post_init__(self) -> None:
        for name in ("all_in_annual", "criminal_line", "disclosure_quantum"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValidationError(name, "must be a positive Decimal")
        if self.criminal_line < self.all_in_annual:
            raise ValidationError("criminal_line", "must not be below all_in_annual")


def disclosed(apr: Decimal, caps: CostCaps = CostCaps()) -> Decimal:
    """``apr`` rounded half-up to the disclosure precision (0.1280 for 12.80%)."""
    return apr.quantize(caps.disclosure_quantum, rounding=ROUND_HALF_UP)


def check_all_in_cap(
    apr_simple: Decimal, caps: CostCaps = CostCaps(), *, field_name: str = "apr_simple"
) -> list[Finding]:
    """Findings (errors) when ``apr_simple`` exceeds the caps; an empty list means within them.

    The message reads "all-in APR 0.2646 exceeds the 24% cap"; ``field_name`` lets a caller name
    the input to change (``annual_rate``, ``monthly_fee_rate``, ``upfront_fee``).
    """
    if not isinstance(apr_simple, Decimal) or not apr_simple.is_finite():
        raise ValidationError("apr_simple", "must be a finite Decimal")
    shown = disclosed(apr_simple, caps)
    findings: list[Finding] = []
    if shown > caps.all_in_annual:
        findings.append(
            Finding(
                field_name,
                f"all-in APR {shown} exceeds the {_percent(caps.all_in_annual)}% cap",
                Severity.ERROR,
            )
        )
    if shown >= caps.criminal_line:
        findings.append(
            Finding(
                field_name,
                f"all-in APR {shown} reaches the {_percent(caps.criminal_line)}% line"
                " for illegal lending",
                Severity.ERROR,
            )
        )
    return findings


def is_within_cap(apr_simple: Decimal, caps: CostCaps = CostCaps()) -> bool:
    """True when ``apr_simple`` (as disclosed) is at or below the all-in cap."""
    return not check_all_in_cap(apr_simple, caps)


# -- LPR and the private-lending cap ----------------------------------------------------------------


def _default_lpr_entries() -> tuple[tuple[date, Decimal], ...]:
    # One-year LPR as published by the NIFC since the 2019 reform (effective dates, annual rate).
    published = [
        ("2019-08-20", "0.0425"),
        ("2019-09-20", "0.0420"),
        ("2019-11-20", "0.0415"),
        ("2020-02-20", "0.0405"),
        ("2020-04-20", "0.0385"),
        ("2021-12-20", "0.0380"),
        ("2022-01-20", "0.0370"),
        ("2022-08-22", "0.0365"),
        ("2023-06-20", "0.0355"),
        ("2023-08-21", "0.0345"),
        ("2024-07-22", "0.0335"),
        ("2024-10-21", "0.0310"),
        ("2025-05-20", "0.0300"),
    ]
    return tuple((date.fromisoformat(d), Decimal(r)) for d, r in published)


@dataclass(frozen=True, slots=True)
class LprTable:
    """One-year LPR by effective date; a rate applies from its date until the next entry."""

    entries: tuple[tuple[date, Decimal], ...] = field(default_factory=_default_lpr_entries)

    def __post_init__(self) -> None:
        if not self.entries:
            raise ValidationError("lpr", "the table must not be empty")
        previous: date | None = None
        for day, rate in self.entries:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValidationError("lpr", f"{day!r} is not a date")
            if not isinstance(rate, Decimal) or not rate.is_finite() or not 0 < rate < 1:
                raise ValidationError("lpr", f"rate on {day} must be a Decimal fraction in (0, 1)")
            if previous is not None and day <= previous:
                raise ValidationError("lpr", "entries must be in increasing date order")
            previous = day

    @classmethod
    def from_mapping(cls, raw: Mapping[str, str]) -> LprTable:
        """From configuration: ``{"2025-05-20": "0.0300", …}`` (strings; floats are refused)."""
        entries = []
        for day, rate in raw.items():
            if not isinstance(rate, str):
                raise ValidationError("lpr", f"rate for {day} must be a decimal string")
            try:
                entries.append((date.fromisoformat(day), Decimal(rate)))
            except (TypeError, ValueError, ArithmeticError):
                raise ValidationError("lpr", f"bad entry {day!r}: {rate!r}") from None
        return cls(tuple(sorted(entries)))

    def rate_on(self, on: date) -> Decimal:
        if not isinstance(on, date) or isinstance(on, datetime):
            raise ValidationError("on", f"must be a date, got {on!r}")
        dates = [d for d, _ in self.entries]
        idx = bisect.bisect_right(dates, on) - 1
        if idx < 0:
            raise ValidationError("on", f"no LPR is known before {dates[0]}")
        return self.entries[idx][1]


DEFAULT_LPR_TABLE = LprTable()


def lpr_on(on: date, table: LprTable = DEFAULT_LPR_TABLE) -> Decimal:
    """The one-year LPR in force on ``on`` (3.00% since 2025-05-20 by default)."""
    return table.rate_on(on)


def private_lending_cap(on: date, table: LprTable = DEFAULT_LPR_TABLE) -> Decimal:
    """Private-lending interest cap on a contract dated ``on``: 4 × the one-year LPR."""
    return 4 * lpr_on(on, table)
