"""Scenario signals: schemas per family, the ``SignalSource`` adapter port and a synthetic feed."""

from xindai.products.scenarios.families import FAMILIES, SIGNALS, SOURCES, credit_view
from xindai.products.scenarios.schema import (
    Category,
    SignalSource,
    SignalSpec,
    Snapshot,
    coerce,
)

__all__ = [
    "FAMILIES",
    "SIGNALS",
    "SOURCES",
    "Category",
    "SignalSource",
    "SignalSpec",
    "Snapshot",
    "coerce",
    "credit_view",
]
