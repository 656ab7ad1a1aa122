"""Carbon signals (碳积分贷): verified tonnes of CO₂ a new-energy-vehicle owner saved.

A ``CarbonVerification`` is one certificate from a carbon-inclusion registry (碳普惠): the tonnes
verified and the date. ``carbon_signals`` sums them as of a date — only certificates dated on or
before ``as_of`` count, each certificate once — and counts whole months of vehicle ownership. The
product file decides what a tonne is worth (the shipped file: 500 CNY per whole tonne, capped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from xindai.kernel.errors import ValidationError
from xindai.products.scenarios._util import months_between

TONNE_QUANTUM = Decimal("0.001")  # registries certify to the kilogram


@dataclass(frozen=True, slots=True)
class CarbonVerification:
    certificate: str
    day: date
    tonnes: Decimal

    def __post_init__(self) -> None:
        if (
            not isinstance(self.tonnes, Decimal)
            or not self.tonnes.is_finite()
            or self.tonnes <= 0
            or self.tonnes != self.tonnes.quantize(TONNE_QUANTUM)
        ):
            raise ValidationError(
                "tonnes", f"must be a positive Decimal in kg steps, got {self.tonnes!r}"
            )
        if not self.certificate:
            raise ValidationError("certificate", "must name the registry certificate")


def carbon_signals(
    verifications: Sequence[CarbonVerification], vehicle_since: date, as_of: date
) -> dict[str, object]:
    """The ``carbon`` signal family as of ``as_of``."""
    seen: set[str] = set()
    total = Decimal(0)
    last_12m = Decimal(0)
    year_ago = as_of - timedelta(days=365)
    for v in verifications:
        if v.certificate in seen:
            raise ValidationError("verifications", f"certificate {v.certificate} counted twice")
        seen.add(v.certificate)
        if v.day > as_of:
            continue
        total += v.tonnes
        if v.day > year_ago:
            last_12m += v.tonnes
    return {
        "carbon_tonnes_verified": total,
        "carbon_tonnes_12m": last_12m,
        "nev_months_owned": months_between(vehicle_since, as_of),
    }
