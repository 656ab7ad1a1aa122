"""Build hook for the compiled window kernel ``xindai.risk._kernel`` (Cython → C extension).

Everything else about the package is declared in ``pyproject.toml``. The kernel is an accelerator:
``xindai.risk.accel`` falls back to the pure-Python rings when it is absent.
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
            )
        ],
        language_level=3,
    )
)
