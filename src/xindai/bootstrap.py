"""Composition root: settings → store, bus, models → use cases. The only place that wires adapters."""
