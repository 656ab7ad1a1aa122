"""Where the scoring package finds real data: the shared datasets folder and the bundled UCI copies.

Invariants: ``XINDAI_DATASETS_DIR`` (if set) always wins; otherwise the folder is
``<repo root>/../shared/datasets`` where the repo root is the nearest ancestor of this file holding a
``pyproject.toml``. Nothing here reads the network or writes anything.
"""

from __future__ import annotations

import os
from pathlib import Path

from xindai.kernel import NotFoundError

PACKAGE_DIR = Path(__file__).resolve().parent
SPECS_DIR = PACKAGE_DIR / "specs"
BUNDLED_DIR = PACKAGE_DIR / "data"


def repo_root() -> Path | None:
    """The project root (the first ancestor holding ``pyproject.toml``), or None when installed."""
    for parent in PACKAGE_DIR.parents:
        if (parent / "pyproject.toml").is_file():
            return parent
    return None


def datasets_dir() -> Path | None:
    """The shared datasets folder, or None when it is not present on this machine."""
    override = os.environ.get("XINDAI_DATASETS_DIR")
    if override:
        return Path(override)
    root = repo_root()
    if root is None:
        return None
    candidate = root.parent / "shared" / "datasets"
    return candidate if candidate.is_dir() else None


def dataset_file(relative: str, bundled: str | None = None) -> Path:
    """Locate a data file: the shared folder first, then a bundled gzip copy (UCI sets only).

    Raises ``NotFoundError`` naming both places when neither holds the file.
    """
    base = datasets_dir()
    if base is not None and (base / relative).is_file():
        return base / relative
    if bundled is not None and (BUNDLED_DIR / bundled).is_file():
        return BUNDLED_DIR / bundled
    raise NotFoundError(
        f"dataset file {relative!r} not found under {base or '../shared/datasets'}"
        + (f" nor bundled as {bundled!r}" if bundled else "")
        + "; set XINDAI_DATASETS_DIR"
    )
