"""Whether the compiled window kernel (``xindai.risk._kernel``) is used in this process.

The kernel is built from ``_kernel.pyx`` by ``pip install`` (Cython and a C compiler). It is an
accelerator, not a dependency: when it is not built, or ``XINDAI_NATIVE=0`` is set, ``kernel`` is
``None`` and the pure-Python rings and generated plans run, with the same values
(``xindai.kernel.native``).
"""

from __future__ import annotations

from types import ModuleType

from xindai.kernel.native import load_native


def load_kernel() -> ModuleType | None:
    """The kernel module, or ``None`` (disabled by ``XINDAI_NATIVE=0`` or not built)."""
    return load_native("xindai.risk._kernel")


kernel: ModuleType | None = load_kernel()
