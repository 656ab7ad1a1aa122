"""Scenario signals: schemas per family, the ``SignalSource`` adapter port, derivations from raw
partner records, and a seeded SYNTHETIC generator (``scenarios.synthetic``, clearly labelled)."""

from xindai.products.scenarios.carbon import CarbonVerification, carbon_signals
from xindai.products.scenarios.ecommerce import Order, ecommerce_signals
from xindai.products.scenarios.families import FAMILIES, SIGNALS, SOURCES, credit_view
from xindai.products.scenarios.repayment import InstalmentRecord, repayment_signals
from xindai.products.scenarios.schema import (
    Category,
    SignalSource,
    SignalSpec,
    Snapshot,
    coerce,
)
from xindai.products.scenarios.sme import DailyTurnover, sme_signals
from xindai.products.scenarios.synthetic import SyntheticSignalSource
from xindai.products.scenarios.travel import Guide, Review, Trip, travel_signals

__all__ = [
    "FAMILIES",
    "SIGNALS",
    "SOURCES",
    "CarbonVerification",
    "Category",
    "DailyTurnover",
    "Guide",
    "InstalmentRecord",
    "Order",
    "Review",
    "SignalSource",
    "SignalSpec",
    "Snapshot",
    "SyntheticSignalSource",
    "Trip",
    "carbon_signals",
    "coerce",
    "credit_view",
    "ecommerce_signals",
    "repayment_signals",
    "sme_signals",
    "travel_signals",
]
