"""Interest rates as ``Decimal`` fractions (``Decimal("0.12")`` is 12% a year). Never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from xindai.kernel.errors import ValidationError


def parse_rate(value: object, field: str = "rate", *, allow_zero: bool = True) -> Decimal:
    """Parse a rate given as a decimal string, int or Decimal into a non-negative ``Decimal``."""
    if isinstance(value, (bool, float)):
        raise ValidationError(field, "must be a decimal string, not a float")
    try:
        rate = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(field, f"{value!r} is not a number") from None
    if not rate.is_finite():
        raise ValidationError(field, "must be finite")
    if rate < 0:
        raise ValidationError(field, "must not be negative")
    if rate == 0 and not allow_zero:
        raise ValidationError(field, "must be positive")
    if rate > 10:
        raise ValidationError(field, "is a fraction (0.12 means 12%); values above 10 are refused")
    return rate
