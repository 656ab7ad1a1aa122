"""E-commerce behaviour signals (先用后付 / BNPL): features for the scoring model and the BNPL limit.

From a shopper's orders (amount, whether it was returned, whether the shopper compared prices
first), customer-service chat tone scores (−1 hostile … 1 friendly) and delivery-address changes.
Windows: orders and spend over the trailing 365 days, address changes over 90 days; rates are
rounded half-up to 4 decimals, money to the fen. Only events on or before ``as_of`` count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from xindai.kernel.errors import ValidationError
from xindai.money.money import require_positive_fen
from xindai.products.scenarios._util import BASIS, months_between, quantise, yuan


@dataclass(frozen=True, slots=True)
class Order:
    day: date
    amount_fen: int
    returned: bool = False
    compared_prices: bool = False

    def __post_init__(self) -> None:
        require_positive_fen(self.amount_fen, "amount_fen")


def ecommerce_signals(
    orders: Sequence[Order],
    chat_tones: Sequence[Decimal],
    address_changes: Sequence[date],
    active_since: date,
    as_of: date,
) -> dict[str, object]:
    """The ``ecommerce`` signal family as of ``as_of``."""
    year = [o for o in orders if as_of - timedelta(days=365) < o.day <= as_of]
    for tone in chat_tones:
        if not Decimal(-1) <= tone <= Decimal(1):
            raise ValidationError("chat_tones", f"{tone} is outside −1…1")
    n = len(year)
    return {
        "ecom_months_active": months_between(active_since, as_of),
        "ecom_orders_12m": n,
        "ecom_gmv_12m_yuan": yuan(sum(o.amount_fen for o in year)),
        "ecom_return_rate": quantise(Fraction(sum(o.returned for o in year), n) if n else 0, BASIS),
        "ecom_price_compare_rate": quantise(
            Fraction(sum(o.compared_prices for o in year), n) if n else 0, BASIS
        ),
        "ecom_cs_tone_score": quantise(
            Fraction(sum(Fraction(t) for t in chat_tones), len(chat_tones)) if chat_tones else 0,
            BASIS,
        ),
        "ecom_address_changes_90d": sum(
            1 for d in address_changes if as_of - timedelta(days=90) < d <= as_of
        ),
    }
