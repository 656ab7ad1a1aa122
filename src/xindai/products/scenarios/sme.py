"""SME turnover signals (翻台率贷): daily POS sales and food-delivery orders → limit inputs.

``sme_signals(series, as_of)`` turns a restaurant's daily series into the ``sme`` family:

* averages over the trailing 365 days (or the history since the first day, if shorter):
  ``pos_monthly_sales_yuan``, ``delivery_monthly_orders``, ``monthly_turnover_yuan`` (a month is
  365/12 days);
* the trailing 4 weeks (28 days to ``as_of`` inclusive): ``turnover_4w_yuan``, and its normal level
  ``turnover_4w_norm_yuan`` = the trailing-year daily average × 28;
* ``season_index`` = ``turnover_4w_yuan / turnover_4w_norm_yuan`` (1 = a normal month; the peak
  uplift and the slow-season warning are conditions on it, written in the product file);
* ``history_days`` = calendar days since the first day of data.

Invariants: only days ≤ ``as_of`` are read (no look-ahead); a calendar day with no record counts as
zero turnover (the restaurant was closed or the feed had nothing); money is summed in fen and
rounded once, half-up, to the fen when shown in yuan; the index is rounded half-up to 4 decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from xindai.kernel.errors import ValidationError
from xindai.products.scenarios._util import BASIS, quantise, require_sorted_unique, yuan

YEAR_DAYS = 365
WINDOW_4W = 28


@dataclass(frozen=True, slots=True)
class DailyTurnover:
    """One day at one restaurant: POS card/QR sales, delivery orders and their sales (fen)."""

    day: date
    pos_sales_fen: int
    delivery_orders: int
    delivery_sales_fen: int

    def __post_init__(self) -> None:
        for name in ("pos_sales_fen", "delivery_orders", "delivery_sales_fen"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValidationError(name, f"must be a non-negative integer, got {value!r}")

    @property
    def turnover_fen(self) -> int:
        return self.pos_sales_fen + self.delivery_sales_fen


def sme_signals(series: Sequence[DailyTurnover], as_of: date) -> dict[str, object]:
    """The ``sme`` signal family for a restaurant as of ``as_of`` (see the module docstring)."""
    days = [d for d in series if d.day <= as_of]
    if not days:
        raise ValidationError("series", f"no turnover data on or before {as_of}")
    require_sorted_unique([d.day for d in days], "series")
    first = days[0].day
    year_start = max(first, as_of - timedelta(days=YEAR_DAYS - 1))
    span = (as_of - year_start).days + 1
    year = [d for d in days if d.day >= year_start]
    pos = sum(d.pos_sales_fen for d in year)
    orders = sum(d.delivery_orders for d in year)
    total = sum(d.turnover_fen for d in year)
    month = Fraction(YEAR_DAYS, 12)
    start_4w = as_of - timedelta(days=WINDOW_4W - 1)
    turnover_4w = sum(d.turnover_fen for d in days if d.day >= start_4w)
    norm_4w = Fraction(total, span) * WINDOW_4W
    index = Fraction(turnover_4w) / norm_4w if norm_4w else Fraction(1)
    return {
        "pos_monthly_sales_yuan": yuan(Fraction(pos, span) * month),
        "delivery_monthly_orders": quantise(Fraction(orders, span) * month),
        "monthly_turnover_yuan": yuan(Fraction(total, span) * month),
        "turnover_4w_yuan": yuan(turnover_4w),
        "turnover_4w_norm_yuan": yuan(norm_4w),
        "season_index": quantise(index, BASIS),
        "history_days": (as_of - first).days + 1,
    }
