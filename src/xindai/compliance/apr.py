"""APR by the IRR method (年化利率, PBoC Announcement [2021] No. 3; DOMAIN_RULES §1).

The per-period IRR ``r`` solves ``net_proceeds = Σ P_k / D_k(r)`` for the borrower's real cash
flows: ``net_proceeds`` is what the borrower actually receives (principal minus anything deducted
at disbursement) and ``P_k`` everything the borrower pays in period k (interest, principal and every
loan-related fee). ``D_k(r) = (1+r)^k``; with an irregular first period of ``f`` periods it is
``(1+r)^(k−1)·(1+r·f)`` (simple interest for the fractional period).

Outputs: 单利 ``apr_simple = r × periods_per_year`` (the usual display) and 复利
``apr_compound = (1+r)^periods_per_year − 1``.

Invariants: exact integer fen in, ``Decimal`` out; no float anywhere; solved in a 40-digit decimal
context by Newton's method kept inside a shrinking bracket (bisection when a Newton step would leave
it), to better than 1e-20; results are quantized to 20 decimal places so they are reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

from xindai.kernel.errors import ValidationError

_PRECISION = 40
_QUANTUM = Decimal("1e-20")
_STEP_TOLERANCE = Decimal("1e-24")
_MAX_ITERATIONS = 400


@dataclass(frozen=True, slots=True)
class AprResult:
    """The per-period IRR and the two annualised figures derived from it."""

    periodic_rate: Decimal
    apr_simple: Decimal
    apr_compound: Decimal
    periods_per_year: int


def _check_inputs(
    net_proceeds: object, payments: Sequence[object], first_period_fraction: object
) -> tuple[int, list[int], Fraction]:
    if isinstance(net_proceeds, bool) or not isinstance(net_proceeds, int):
        raise ValidationError("net_proceeds", "must be an integer number of fen")
    if net_proceeds <= 0:
        raise ValidationError("net_proceeds", "must be positive (the borrower receives money)")
    if isinstance(payments, str | bytes) or not isinstance(payments, Sequence):
        raise ValidationError("payments", "must be a sequence of integer fen")
    checked: list[int] = []
    for p in payments:
        if isinstance(p, bool) or not isinstance(p, int):
            raise ValidationError("payments", f"must be integer fen, got {type(p).__name__}")
        if p < 0:
            raise ValidationError("payments", "must not be negative (money the borrower pays)")
        checked.append(p)
    if not any(checked):
        raise ValidationError("payments", "the borrower must pay something back")
    if first_period_fraction is None:
        return net_proceeds, checked, Fraction(1)
    if not isinstance(first_period_fraction, Fraction | int) or isinstance(
        first_period_fraction, bool
    ):
        raise ValidationError("first_period_fraction", "must be a Fraction")
    f = Fraction(first_period_fraction)
    if f <= 0 or f > 2:
        raise ValidationError("first_period_fraction", "must be in (0, 2]")
    return net_proceeds, checked, f


def solve_periodic_irr(
    net_proceeds: int,
    payments: Sequence[int],
    *,
    first_period_fraction: Fraction | None = None,
) -> Decimal:
    """The per-period rate r with ``net_proceeds = Σ payments[k−1] / D_k(r)``.

    ``payments`` are the amounts (fen, ≥ 0) the borrower pays at the end of periods 1, 2, …; zeros
    stand for periods without a payment. Raises ``ValidationError`` for unusable input.
    """
    net, pays, f = _check_inputs(net_proceeds, payments, first_period_fraction)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = ROUND_HALF_EVEN
        net_d = Decimal(net)
        pays_d = [Decimal(p) for p in pays]
        f_d = Decimal(f.numerator) / Decimal(f.denominator)
        indexed = [(k, p) for k, p in enumerate(pays_d) if p]

        def npv(r: Decimal) -> tuple[Decimal, Decimal]:
            """(Σ P_k/D_k − net, its derivative in r)."""
            growth = 1 + r
            first = 1 + r * f_d
            value = Decimal(0)
            slope = Decimal(0)
            for k, p in indexed:  # k = periods after the first one
                term = p / (growth**k * first)
                value += term
                slope -= term * (k / growth + f_d / first)
            return value - net_d, slope

        # Bracket: npv falls as r rises; it is +∞ at the pole (r → max(−1, −1/f)) and → −net as
        # r → ∞, so exactly one root exists.
        pole = max(Decimal(-1), -1 / f_d)
        lo = pole / 2 if pole < 0 else Decimal(0)
        while npv(lo)[0] <= 0:
            lo = (lo + pole) / 2
            if lo - pole < Decimal("1e-30"):
                raise ValidationError("payments", "too small to solve for a rate")
        hi = Decimal(1)
        while npv(hi)[0] > 0:
            hi *= 2
            if hi > 10**9:
                raise ValidationError("payments", "imply an unbounded rate")

        total = sum(pays_d)
        periods = Decimal(len(pays_d))
        # simple-interest guess: profit spread over the mean life of the payments
        r = (total / net_d - 1) / ((periods + 1) / 2)
        if not lo < r < hi:
            r = (lo + hi) / 2
        for _ in range(_MAX_ITERATIONS):
            value, slope = npv(r)
            if value == 0:
                break
            if value > 0:
                lo = r
            else:
                hi = r
            nxt = r - value / slope if slope else (lo + hi) / 2
            if not lo < nxt < hi:
                nxt = (lo + hi) / 2
            done = abs(nxt - r) < _STEP_TOLERANCE
            r = nxt
            if done or hi - lo < _STEP_TOLERANCE:
                break
        return r.quantize(_QUANTUM)


def apr_from_cashflows(
    net_proceeds: int,
    payments: Sequence[int],
    *,
    periods_per_year: int = 12,
    first_period_fraction: Fraction | None = None,
) -> AprResult:
    """APR (单利 and 复利) of a loan paying ``net_proceeds`` now and receiving ``payments``."""
    if (
        isinstance(periods_per_year, bool)
        or not isinstance(periods_per_year, int)
        or periods_per_year < 1
    ):
        raise ValidationError("periods_per_year", "must be a positive integer")
    r = solve_periodic_irr(net_proceeds, payments, first_period_fraction=first_period_fraction)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        ctx.rounding = ROUND_HALF_EVEN
        simple = (r * periods_per_year).quantize(_QUANTUM)
        compound = ((1 + r) ** periods_per_year - 1).quantize(_QUANTUM)
    return AprResult(
        periodic_rate=r,
        apr_simple=simple,
        apr_compound=compound,
        periods_per_year=periods_per_year,
    )
