"""Money refuses floats and mixed currencies; rounding and allocation lose no fen."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.kernel.errors import ValidationError
from xindai.money import DayCount, Money, Rounding, allocate, parse_rate, parse_yuan, round_fen
from xindai.money.daycount import days_between, year_fraction
from xindai.money.money import format_yuan
from xindai.money.rounding import div_round


def test_money_refuses_float_and_bool() -> None:
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True)
    with pytest.raises(TypeError):
        Money(100) * 1.5  # type: ignore[operator]


def test_money_refuses_mixed_currency() -> None:
    with pytest.raises(ValueError, match="currency mismatch"):
        Money(1, "CNY") + Money(1, "USD")
    with pytest.raises(TypeError):
        Money(1) + 1  # type: ignore[operator]


def test_money_arithmetic_and_format() -> None:
    a = Money.yuan("1234.5")
    assert a.fen == 123450
    assert (a - Money(50)).to_yuan() == "1234.00"
    assert (-Money(5)).to_yuan() == "-0.05"
    assert str(Money(100)) == "1.00 CNY"
    assert Money(3) * 2 == Money(6)
    assert Money(10) > Money(9)
    assert Money(1000).times(Decimal("0.005")) == Money(5)
    assert Money(999).times(Decimal("0.005"), Rounding.DOWN) == Money(4)


@pytest.mark.parametrize("bad", ["1.234", "abc", "NaN", 1.5, None, True])
def test_parse_yuan_rejects(bad: object) -> None:
    with pytest.raises(ValidationError) as err:
        parse_yuan(bad, "principal")
    assert err.value.field == "principal"


def test_parse_yuan_accepts() -> None:
    assert parse_yuan("10000") == 1_000_000
    assert parse_yuan(" 0.01 ") == 1
    assert parse_yuan(Decimal("2.50")) == 250
    assert parse_yuan(3) == 300


def test_parse_rate() -> None:
    assert parse_rate("0.12") == Decimal("0.12")
    for bad in (0.12, "-0.1", "x", "11"):
        with pytest.raises(ValidationError):
            parse_rate(bad, "annual_rate")
    with pytest.raises(ValidationError):
        parse_rate("0", allow_zero=False)


@pytest.mark.parametrize(
    ("value", "policy", "expected"),
    [
        (Fraction(5, 2), Rounding.HALF_UP, 3),
        (Fraction(-5, 2), Rounding.HALF_UP, -3),
        (Fraction(5, 2), Rounding.HALF_EVEN, 2),
        (Fraction(7, 2), Rounding.HALF_EVEN, 4),
        (Fraction(29, 10), Rounding.DOWN, 2),
        (Fraction(21, 10), Rounding.UP, 3),
        (Decimal("1.49"), Rounding.HALF_UP, 1),
        (7, Rounding.UP, 7),
    ],
)
def test_round_fen(value: Fraction, policy: Rounding, expected: int) -> None:
    assert round_fen(value, policy) == expected


@given(st.integers(0, 10**12), st.integers(1, 10**6))
def test_div_round_matches_round_fen(num: int, den: int) -> None:
    assert div_round(num, den) == round_fen(Fraction(num, den))


def test_day_counts() -> None:
    start, end = date(2026, 1, 31), date(2026, 3, 1)
    assert days_between(start, end, DayCount.ACT_360) == 29
    assert year_fraction(start, end, DayCount.ACT_365) == Fraction(29, 365)
    assert days_between(date(2026, 1, 31), date(2026, 2, 28), DayCount.THIRTY_360) == 28
    assert days_between(date(2026, 1, 15), date(2026, 2, 15), DayCount.THIRTY_360) == 30
    assert year_fraction(date(2026, 1, 1), date(2026, 1, 31)) == Fraction(30, 360)


def test_format_yuan() -> None:
    assert format_yuan(0) == "0.00"
    assert format_yuan(123456789) == "1234567.89"


@given(
    st.integers(-(10**12), 10**12),
    st.lists(st.integers(0, 10**6), min_size=1, max_size=30).filter(lambda w: sum(w) > 0),
)
def test_allocate_never_loses_a_fen(total: int, weights: list[int]) -> None:
    shares = allocate(total, weights)
    assert sum(shares) == total
    assert len(shares) == len(weights)
    for share, w in zip(shares, weights, strict=True):
        exact = Fraction(total * w, sum(weights))
        assert abs(share - exact) < 1
        if w == 0:
            assert share == 0


def test_allocate_ties_go_to_earlier_shares() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(1, [Decimal("0.5"), Decimal("0.5")]) == [1, 0]


def test_allocate_rejects_bad_weights() -> None:
    with pytest.raises(ValueError):
        allocate(10, [])
    with pytest.raises(ValueError):
        allocate(10, [0, 0])
    with pytest.raises(ValueError):
        allocate(10, [1, -1])
    with pytest.raises(TypeError):
        allocate(10, [0.5, 0.5])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        allocate(1.0, [1])  # type: ignore[arg-type]
