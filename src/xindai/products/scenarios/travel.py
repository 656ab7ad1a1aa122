"""Travel signals (旅行信用): accumulated mileage and the quality of hotel reviews and travel guides.

Inputs are what a travel platform holds about its user: trips (kilometres flown or travelled by
rail), hotel reviews (a 0–1 quality score from the platform's editors and the helpful votes other
users gave) and published guides (0–1 quality). ``review_quality`` is the helpfulness-weighted
mean (weight 1 + votes), ``guide_quality`` the plain mean; both are 0 without any, rounded half-up
to 4 decimals. Only items dated on or before ``as_of`` count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from xindai.kernel.errors import ValidationError
from xindai.products.scenarios._util import BASIS, quantise


def _unit(value: Decimal, field: str) -> None:
    if not isinstance(value, Decimal) or not Decimal(0) <= value <= Decimal(1):
        raise ValidationError(field, f"must be a Decimal between 0 and 1, got {value!r}")


@dataclass(frozen=True, slots=True)
class Trip:
    day: date
    km: int

    def __post_init__(self) -> None:
        if isinstance(self.km, bool) or not isinstance(self.km, int) or self.km < 0:
            raise ValidationError("km", f"must be a non-negative whole number, got {self.km!r}")


@dataclass(frozen=True, slots=True)
class Review:
    day: date
    quality: Decimal
    helpful_votes: int = 0

    def __post_init__(self) -> None:
        _unit(self.quality, "quality")
        if self.helpful_votes < 0:
            raise ValidationError("helpful_votes", "must not be negative")


@dataclass(frozen=True, slots=True)
class Guide:
    day: date
    quality: Decimal

    def __post_init__(self) -> None:
        _unit(self.quality, "quality")


def travel_signals(
    trips: Sequence[Trip], reviews: Sequence[Review], guides: Sequence[Guide], as_of: date
) -> dict[str, object]:
    """The ``travel`` signal family as of ``as_of``."""
    rs = [r for r in reviews if r.day <= as_of]
    gs = [g for g in guides if g.day <= as_of]
    weight = sum(1 + r.helpful_votes for r in rs)
    review_q = (
        Fraction(sum(Fraction(r.quality) * (1 + r.helpful_votes) for r in rs), weight)
        if weight
        else Fraction(0)
    )
    guide_q = Fraction(sum(Fraction(g.quality) for g in gs), len(gs)) if gs else Fraction(0)
    return {
        "travel_mileage_km": sum(t.km for t in trips if t.day <= as_of),
        "hotel_review_count": len(rs),
        "review_quality": quantise(review_q, BASIS),
        "guide_count": len(gs),
        "guide_quality": quantise(guide_q, BASIS),
    }
