"""Build hook for the compiled kernels (Cython → C extensions): the risk engine's window kernel
``xindai.risk._kernel`` and the LightGBM path-attribution kernel ``xindai.scoring._trees``.

Everything else about the package is declared in ``pyproject.toml``. The kernels are accelerators:
``xindai.risk.accel`` falls back to the pure-Python rings and ``xindai.scoring.accel`` to the
NumPy/Python tree walk when they are absent.
"""

from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    ext_modules=cythonize(
        [
            Extension(
                "xindai.risk._kernel",
                ["src/xindai/risk/_kernel.pyx"],
                extra_compile_args=["-O2"],
                # No C compiler: install without the kernel (the engine falls back to Python;
                # tests/unit/risk/test_native.py::test_the_kernel_is_built fails loudly in CI).
                optional=True,
            ),
            Extension(
                "xindai.scoring._trees",
                ["src/xindai/scoring/_trees.pyx"],
                extra_compile_args=["-O2"],
                # No C compiler: install without it (path attributions fall back to NumPy/Python;
                # tests/unit/scoring/test_trees_native.py::test_the_kernel_is_built fails loudly).
                optional=True,
            ),
        ],
        language_level=3,
    )
)
