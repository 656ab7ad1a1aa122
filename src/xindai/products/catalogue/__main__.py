"""``python -m xindai.products.catalogue`` — check product files and try formulas and prices.

For product staff editing a file before it ships::

    python -m xindai.products.catalogue check [DIR]            # every finding, exit 2 if any
    python -m xindai.products.catalogue limit CODE name=value … [--dir DIR]
    python -m xindai.products.catalogue price CODE GRADE TERM [DISCOUNT …] [--dir DIR]

Numbers on the command line are read as exact decimals; ``true``/``false`` as conditions.
Exit status: 0 on success, 2 on a bad file or bad input (the message names the field).
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

from xindai.kernel.errors import DomainError, ValidationError
from xindai.money.money import format_yuan
from xindai.products.catalogue import CatalogueError, load_catalogue


def _value(text: str) -> object:
    if text in ("true", "false"):
        return text == "true"
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError("signals", f"{text!r} is not a number or true/false") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m xindai.products.catalogue", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser(
        "check", help="validate every *.yaml product file in DIR (default: shipped)"
    )
    check.add_argument("dir", nargs="?", type=Path)
    limit = sub.add_parser("limit", help="evaluate a product's limit on signal values name=value")
    limit.add_argument("code")
    limit.add_argument("signals", nargs="*")
    limit.add_argument("--dir", type=Path)
    price = sub.add_parser("price", help="price a grade × term with optional discounts")
    price.add_argument("code")
    price.add_argument("grade")
    price.add_argument("term", type=int)
    price.add_argument("discounts", nargs="*")
    price.add_argument("--dir", type=Path)
    args = parser.parse_args(argv)
    try:
        cat = load_catalogue(args.dir)
        if args.command == "check":
            for p in cat.all():
                where = "nationwide" if p.regions is None else "regions " + ",".join(p.regions)
                print(f"ok  {p.code:<22} {p.name_zh} / {p.name_en}  ({p.loan_product}; {where})")
            print(f"{len(cat)} product files valid")
        elif args.command == "limit":
            signals: dict[str, object] = {}
            for pair in args.signals:
                name, sep, text = pair.partition("=")
                if not sep:
                    raise ValidationError("signals", f"{pair!r} is not name=value")
                signals[name] = _value(text)
            r = cat.get(args.code).limit_for(signals)
            print(r.explanation_zh)
            print(r.explanation_en)
            print(f"limit {format_yuan(r.limit_fen)} CNY; flags: {', '.join(r.flags) or 'none'}")
        else:
            pr = cat.get(args.code).price(args.grade, args.term, args.discounts)
            applied = ", ".join(f"{c} −{off}" for c, off in pr.discounts_applied) or "none"
            print(
                f"grid {pr.grid_rate} → rate {pr.annual_rate} (discounts: {applied}); "
                f"fees: monthly {pr.fees.monthly_rate}, upfront {pr.fees.upfront_rate}; "
                f"fee-equivalent {pr.fee_equivalent_rate}; all-in estimate {pr.all_in_estimate}"
            )
    except CatalogueError as err:
        for f in err.findings:
            print(f"error: {f}", file=sys.stderr)
        print(f"{len(err.findings)} finding(s): nothing loaded", file=sys.stderr)
        return 2
    except DomainError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
