"""``Money``: an amount in integer minor units (fen) with a currency.

Invariants: the amount is an ``int`` (``bool`` and ``float`` are refused); arithmetic never mixes
currencies; nothing rounds implicitly — multiplying by a rate goes through ``times`` with an explicit
rounding policy. JSON carries amounts as yuan strings with two decimals (``"1234.50"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from xindai.kernel.errors import ValidationError
from xindai.money.rounding import Rounding, round_fen

CNY = "CNY"
_MINOR_PER_MAJOR = 100


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int number of fen, not {type(value).__name__}")
    return value


@dataclass(frozen=True, slots=True, order=False)
class Money:
    """An exact amount of money in fen (0.01 CNY)."""

    fen: int
    currency: str = CNY

    def __post_init__(self) -> None:
        _check_int(self.fen, "Money.fen")
        if not (
            isinstance(self.currency, str) and len(self.currency) == 3 and self.currency.isupper()
        ):
            raise ValueError(f"currency must be an ISO 4217 code, got {self.currency!r}")

    # construction -------------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str = CNY) -> Money:
        return cls(0, currency)

    @classmethod
    def yuan(cls, value: str | int | Decimal, currency: str = CNY) -> Money:
        """From a yuan amount given as a string, int or Decimal (at most two decimals); never float."""
        return cls(parse_yuan(value, "amount"), currency)

    # arithmetic ---------------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"currency mismatch: {self.currency} vs {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.fen + self._same(other).fen, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.fen - self._same(other).fen, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.fen, self.currency)

    def __mul__(self, factor: int) -> Money:
        return Money(self.fen * _check_int(factor, "factor"), self.currency)

    __rmul__ = __mul__

    def times(self, rate: Decimal | Fraction, rounding: Rounding = Rounding.HALF_UP) -> Money:
        """Multiply by an exact rate and round to the fen with an explicit policy."""
        if isinstance(rate, float):
            raise TypeError("rate must be Decimal or Fraction, not float")
        return Money(round_fen(Fraction(self.fen) * Fraction(rate), rounding), self.currency)

    # comparison ---------------------------------------------------------------------------------
    def __lt__(self, other: Money) -> bool:
        return self.fen < self._same(other).fen

    def __le__(self, other: Money) -> bool:
        return self.fen <= self._same(other).fen

    def __gt__(self, other: Money) -> bool:
        return self.fen > self._same(other).fen

    def __ge__(self, other: Money) -> bool:
        return self.fen >= self._same(other).fen

    def __bool__(self) -> bool:
        return self.fen != 0

    @property
    def is_negative(self) -> bool:
        return self.fen < 0

    # presentation -------------------------------------------------------------------------------
    def to_yuan(self) -> str:
        """Yuan as a string with exactly two decimals, e.g. ``"1234.50"``."""
        return format_yuan(self.fen)

    def __str__(self) -> str:
        return f"{self.to_yuan()} {self.currency}"


def require_positive_fen(value: object, field: str) -> int:
    """``value`` when it is a positive ``int`` number of fen; else ``ValidationError`` naming
    ``field`` (a float or bool is refused as such: that is how fen get lost)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be an integer number of fen (no floats), got {value!r}")
    if value <= 0:
        raise ValidationError(field, f"must be positive, got {value}")
    return value


def format_yuan(fen: int) -> str:
    """Format integer fen as a yuan string with two decimals (``-5`` → ``"-0.05"``)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), _MINOR_PER_MAJOR)
    return f"{sign}{whole}.{cents:02d}"


def parse_yuan(value: object, field: str = "amount") -> int:
    """Parse a yuan amount (str, int or Decimal, at most two decimals) into integer fen.

    Floats are refused: ``0.1 + 0.2`` is how fen get lost. Raises ``ValidationError`` naming ``field``.
    """
    if isinstance(value, (bool, float)):
        raise ValidationError(field, "must be a decimal string or integer, not a float")
    if isinstance(value, int):
        return value * _MINOR_PER_MAJOR
    if isinstance(value, str):
        try:
            dec = Decimal(value.strip())
        except InvalidOperation:
            raise ValidationError(field, f"{value!r} is not a number") from None
    elif isinstance(value, Decimal):
        dec = value
    else:
        raise ValidationError(field, f"must be a decimal string, got {type(value).__name__}")
    if not dec.is_finite():
        raise ValidationError(field, "must be finite")
    fen = dec * _MINOR_PER_MAJOR
    if fen != fen.to_integral_value():
        raise ValidationError(
            field, f"{value} has more than two decimals (fen is the smallest unit)"
        )
    return int(fen)
