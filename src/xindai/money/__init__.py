"""Exact money: integer fen with a currency, Decimal rates, day counts, rounding, allocation."""

from xindai.money.allocation import allocate
from xindai.money.daycount import DayCount, year_fraction
from xindai.money.money import CNY, Money, parse_yuan
from xindai.money.rates import parse_rate
from xindai.money.rounding import Rounding, round_fen

__all__ = [
    "CNY",
    "DayCount",
    "Money",
    "Rounding",
    "allocate",
    "parse_rate",
    "parse_yuan",
    "round_fen",
    "year_fraction",
]
