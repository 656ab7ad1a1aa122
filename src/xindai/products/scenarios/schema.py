"""Scenario signals: the schema every signal family declares, and the adapter port a feed implements.

A *signal* is one named value a scenario partner (a travel platform, a hospital's billing system, a
POS acquirer, a carbon registry, an e-commerce platform) or the platform's own books provide about a
subject at a date: ``travel_mileage_km``, ``turnover_4w_yuan``, ``carbon_tonnes_verified``, …

Each ``SignalSpec`` states its kind (number or true/false), unit, *data category* and the data
source(s) it comes from:

* ``ordinary`` — usable in a credit decision with the consent for that purpose;
* ``sensitive`` — PIPL Art. 28–29 (financial accounts, income, location): usable only with the
  borrower's *separate* consent, so a product that reads one must declare its source as sensitive;
* ``prohibited`` — 征信业管理条例 Art. 14 (disease or medical history, genes, religion, …): it may
  arrive in a partner's feed but it is **never** a credit feature. The catalogue refuses any product
  expression that names one, and ``credit_view`` drops them from a fetched snapshot.

Invariants: signal names are unique across families; numbers are exact (``int``, ``Decimal`` or
``Fraction``; a ``float`` is refused) and true/false values are ``bool``; a snapshot says where it
came from (``provenance``) and whether it is synthetic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Literal, Protocol

from xindai.kernel.errors import ValidationError


class Category(StrEnum):
    ORDINARY = "ordinary"
    SENSITIVE = "sensitive"
    PROHIBITED = "prohibited"


SignalKind = Literal["number", "bool", "text"]


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """What one signal is: its family, kind, unit, data category, sources and labels."""

    name: str
    family: str
    kind: SignalKind
    unit: str
    category: Category
    sources: tuple[str, ...]
    label_zh: str
    label_en: str
    description: str = ""
    #: the smallest and largest value a feed may deliver (numbers only); outside → refused
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    @property
    def prohibited(self) -> bool:
        return self.category is Category.PROHIBITED


def coerce(spec: SignalSpec, value: object) -> Fraction | bool:
    """A delivered value as the exact type the expression language uses; bad values name the signal.

    Text signals (a diagnosis code) are never expression inputs, so coercing one is an error.
    """
    if spec.kind == "text":
        if not isinstance(value, str):
            raise ValidationError(spec.name, f"must be text, got {value!r}")
        raise ValidationError(spec.name, "a text signal cannot be used in a product expression")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ValidationError(spec.name, f"must be true or false, got {value!r}")
        return value
    if isinstance(value, bool | float):
        raise ValidationError(spec.name, f"must be an exact number (int or Decimal), got {value!r}")
    if isinstance(value, int | Fraction) or (isinstance(value, Decimal) and value.is_finite()):
        number = Fraction(value)
    else:
        raise ValidationError(spec.name, f"must be an exact number (int or Decimal), got {value!r}")
    if spec.minimum is not None and number < spec.minimum:
        raise ValidationError(spec.name, f"{value} is below the minimum {spec.minimum} {spec.unit}")
    if spec.maximum is not None and number > spec.maximum:
        raise ValidationError(spec.name, f"{value} is above the maximum {spec.maximum} {spec.unit}")
    return number


@dataclass(frozen=True)
class Snapshot(Mapping[str, object]):
    """One family's signal values for a subject at a date, with where they came from."""

    family: str
    subject: str
    as_of: date
    data: Mapping[str, object]
    provenance: str
    synthetic: bool = False
    notes: tuple[str, ...] = field(default=())

    def __getitem__(self, key: str) -> object:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


class SignalSource(Protocol):
    """The adapter port: a partner feed (or the synthetic generator) behind one interface.

    ``fetch`` returns every signal of ``family`` it knows for ``subject`` as of ``as_of`` (a
    ``Snapshot`` is a ``Mapping``). It must not return values from after ``as_of``.
    """

    def fetch(self, subject: str, family: str, as_of: date) -> Mapping[str, object]: ...
