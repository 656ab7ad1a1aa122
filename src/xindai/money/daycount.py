"""Day-count conventions: ACT/360 (industry default in China), ACT/365 and 30/360.

``year_fraction`` is exact (a ``Fraction``): interest = principal × annual rate × year fraction.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from fractions import Fraction


class DayCount(StrEnum):
    ACT_360 = "ACT/360"
    ACT_365 = "ACT/365"
    THIRTY_360 = "30/360"

    @property
    def year_days(self) -> int:
        return 365 if self is DayCount.ACT_365 else 360


def days_between(start: date, end: date, convention: DayCount) -> int:
    """Days counted from ``start`` (exclusive) to ``end`` (inclusive) under ``convention``."""
    if convention is DayCount.THIRTY_360:
        d1 = min(start.day, 30)
        d2 = end.day if (end.day < 31 or d1 < 30) else 30
        return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
    return (end - start).days


def year_fraction(start: date, end: date, convention: DayCount = DayCount.ACT_360) -> Fraction:
    """Exact fraction of a year between two dates under ``convention``."""
    return Fraction(days_between(start, end, convention), convention.year_days)
