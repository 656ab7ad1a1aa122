"""The ``xindai`` command line (Typer + Rich)."""
