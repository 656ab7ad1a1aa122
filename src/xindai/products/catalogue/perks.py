"""Perk entitlements: what a borrower has earned under a product, for a partner to query.

The medical product's ``priority-registration`` perk is the model: a hospital asks "does this
patient get priority registration at today's visit?" and receives an ``Entitlement`` — granted or
not, until when, and why, in both languages. The condition itself is the perk's ``when``
expression in the product file (shipped: at least 3 instalments on time, none late in 24 months,
nothing overdue now), evaluated on the borrower's repayment signals as of the visit date.

Invariant: the decision reads only the product's declared signals (never health data: the
catalogue refuses a perk condition naming a prohibited signal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from xindai.kernel.errors import NotFoundError
from xindai.products.catalogue.model import ScenarioProduct


@dataclass(frozen=True, slots=True)
class Entitlement:
    product: str
    perk: str
    granted: bool
    as_of: date
    valid_until: date | None
    reason_zh: str
    reason_en: str


def entitlement(
    product: ScenarioProduct, perk_code: str, signals: Mapping[str, object], as_of: date
) -> Entitlement:
    """Whether the borrower described by ``signals`` holds ``perk_code`` on ``as_of``."""
    perk = next((p for p in product.perks if p.code == perk_code), None)
    if perk is None:
        raise NotFoundError(f"product {product.code} has no perk {perk_code!r}")
    granted = perk in product.entitlements(signals)
    if granted:
        until = as_of + timedelta(days=perk.valid_days)
        return Entitlement(
            product.code,
            perk.code,
            True,
            as_of,
            until,
            f"已获得「{perk.label_zh}」，有效期至 {until.isoformat()}",
            f"entitled to '{perk.label_en}' until {until.isoformat()}",
        )
    return Entitlement(
        product.code,
        perk.code,
        False,
        as_of,
        None,
        f"暂未满足「{perk.label_zh}」的条件：{perk.when}",
        f"not (yet) entitled to '{perk.label_en}': the condition is {perk.when}",
    )
