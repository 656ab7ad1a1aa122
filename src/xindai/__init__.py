"""xindai (信贷): an open-source platform for new-model online lending in the Chinese market.

The package is layered (see docs/architecture.md): a pure domain core (kernel, money, accounting,
chain, products, scoring, risk, servicing, compliance, sharing), use cases in ``app``, adapters in
``store`` and ``streams``, and entry points in ``api``, ``web`` and ``cli``.
"""

__version__ = "0.1.0"
