"""The scenario-product catalogue: one validated file per product, and the API origination uses.

``load_catalogue()`` reads the shipped files (``catalogue/files/*.yaml``) or a directory given;
every file is validated completely and any problem raises ``CatalogueError`` listing each finding
(file, field, reason). ``Catalogue.get(code)`` raises ``NotFoundError`` for an unknown code.
Product staff documentation: ``docs/guide/products.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from xindai.kernel.errors import NotFoundError
from xindai.products.catalogue.loader import (
    CatalogueError,
    CatalogueFinding,
    load_products,
    parse_files,
    shipped_files_dir,
)
from xindai.products.catalogue.model import (
    GRADES,
    DataSource,
    Discount,
    Eligibility,
    Fees,
    Lesson,
    LimitResult,
    Perk,
    Pricing,
    QuizItem,
    Reason,
    ScenarioProduct,
    Stage,
    fee_equivalent_rate,
)
from xindai.products.catalogue.perks import Entitlement, entitlement
from xindai.products.loan_product import LoanProduct


class Catalogue:
    """The loaded scenario products, by code (immutable)."""

    def __init__(self, products: Mapping[str, ScenarioProduct]) -> None:
        self._products = dict(products)

    def get(self, code: str) -> ScenarioProduct:
        try:
            return self._products[code]
        except KeyError:
            known = ", ".join(sorted(self._products))
            raise NotFoundError(f"unknown scenario product {code!r} (known: {known})") from None

    def all(self) -> list[ScenarioProduct]:
        return [self._products[c] for c in sorted(self._products)]

    def __contains__(self, code: object) -> bool:
        return code in self._products

    def __len__(self) -> int:
        return len(self._products)


def load_catalogue(
    path: str | Path | None = None, loan_products: Mapping[str, LoanProduct] | None = None
) -> Catalogue:
    """The catalogue in ``path`` (default: the shipped files); ``CatalogueError`` if any is bad."""
    return Catalogue(load_products(Path(path) if path is not None else None, loan_products))


__all__ = [
    "GRADES",
    "Catalogue",
    "CatalogueError",
    "CatalogueFinding",
    "DataSource",
    "Discount",
    "Eligibility",
    "Entitlement",
    "Fees",
    "Lesson",
    "LimitResult",
    "Perk",
    "Pricing",
    "QuizItem",
    "Reason",
    "ScenarioProduct",
    "Stage",
    "entitlement",
    "fee_equivalent_rate",
    "load_catalogue",
    "parse_files",
    "shipped_files_dir",
]
