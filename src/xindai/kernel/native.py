"""The one switch for the compiled accelerators (``xindai.risk._kernel``, ``xindai.scoring._trees``).

Each is built from its ``.pyx`` by ``pip install`` (Cython and a C compiler) and is optional: when it
is not built, or ``XINDAI_NATIVE=0`` (also ``false``/``no``/``off``) is set, ``load_native`` returns
``None`` and the caller runs its pure-Python reference, with the same values. One switch for all of
them, read when each accelerator module is first imported.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def native_enabled() -> bool:
    """False when ``XINDAI_NATIVE`` is set to 0/false/no/off."""
    return os.environ.get("XINDAI_NATIVE", "1").strip().lower() not in ("0", "false", "no", "off")


def load_native(module: str) -> ModuleType | None:
    """The compiled module, or ``None`` (disabled by ``XINDAI_NATIVE=0`` or not built)."""
    if not native_enabled():
        return None
    try:
        return importlib.import_module(module)
    except ImportError:  # not built (no compiler at install time): the Python path runs
        return None
