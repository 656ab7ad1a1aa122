"""Whether the compiled window kernel (``xindai.risk._kernel``) is used in this process.

The kernel is built from ``_kernel.pyx`` by ``pip install`` (Cython and a C compiler). It is an
accelerator, not a dependency: when it is not built, or ``XINDAI_NATIVE=0`` is set, ``kernel`` is
``None`` and the pure-Python rings and generated plans run, with the same values.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def load_kernel() -> ModuleType | None:
    """The kernel module, or ``None`` (disabled by ``XINDAI_NATIVE=0`` or not built)."""
    if os.environ.get("XINDAI_NATIVE", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    try:
        return importlib.import_module("xindai.risk._kernel")
    except ImportError:  # not built (no compiler at install time): the Python path runs
        return None


kernel: ModuleType | None = load_kernel()
