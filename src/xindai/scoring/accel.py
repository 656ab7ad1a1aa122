"""Whether the compiled tree kernel (``xindai.scoring._trees``) is used in this process.

The kernel is built from ``_trees.pyx`` by ``pip install`` (Cython and a C compiler). It is an
accelerator, not a dependency: when it is not built, or ``XINDAI_NATIVE=0`` is set (the same switch
as the risk engine's ``xindai.risk.accel``), ``trees`` is ``None`` and ``Ensemble`` walks the trees
in Python/NumPy, with the same values.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def native_enabled() -> bool:
    """False when ``XINDAI_NATIVE`` is set to 0/false/no/off."""
    return os.environ.get("XINDAI_NATIVE", "1").strip().lower() not in ("0", "false", "no", "off")


def load_trees() -> ModuleType | None:
    """The kernel module, or ``None`` (disabled by ``XINDAI_NATIVE=0`` or not built)."""
    if not native_enabled():
        return None
    try:
        return importlib.import_module("xindai.scoring._trees")
    except ImportError:  # not built (no compiler at install time): the Python path runs
        return None


trees: ModuleType | None = load_trees()
