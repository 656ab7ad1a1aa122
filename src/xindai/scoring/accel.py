"""Whether the compiled tree kernel (``xindai.scoring._trees``) is used in this process.

The kernel is built from ``_trees.pyx`` by ``pip install`` (Cython and a C compiler). It is an
accelerator, not a dependency: when it is not built, or ``XINDAI_NATIVE=0`` is set (the switch of
``xindai.kernel.native``, shared with the risk engine), ``trees`` is ``None`` and ``Ensemble`` walks
the trees in Python/NumPy, with the same values.
"""

from __future__ import annotations

from types import ModuleType

from xindai.kernel.native import load_native, native_enabled

__all__ = ["load_trees", "native_enabled", "trees"]


def load_trees() -> ModuleType | None:
    """The kernel module, or ``None`` (disabled by ``XINDAI_NATIVE=0`` or not built)."""
    return load_native("xindai.scoring._trees")


trees: ModuleType | None = load_trees()
