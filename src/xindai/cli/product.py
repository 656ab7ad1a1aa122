"""``xindai product``: list, check and try the scenario product files (for product staff).

``check`` prints every finding of every file (``error: FILE: FIELD: REASON``) and exits 2 if there is
one — nothing is loaded from a directory with a bad file. ``limit`` and ``price`` evaluate a
product's formula and grid exactly as origination will.
"""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from xindai.cli.common import emit_json, handle_errors
from xindai.kernel.errors import ValidationError
from xindai.money.money import format_yuan
from xindai.products.catalogue import Catalogue, CatalogueError, load_catalogue

app = typer.Typer(no_args_is_help=True, help="Scenario product files: check, limit, price.")

Dir = Annotated[
    Path | None,
    typer.Option("--dir", help="A directory of product files (default: the shipped ones)."),
]


def _load(directory: Path | None) -> Catalogue:
    try:
        return load_catalogue(directory)
    except CatalogueError as err:
        for finding in err.findings:
            sys.stderr.write(f"error: {finding}\n")
        sys.stderr.write(f"{len(err.findings)} finding(s): nothing loaded\n")
        raise typer.Exit(2) from None


def _value(text: str) -> object:
    if text in ("true", "false"):
        return text == "true"
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValidationError("signals", f"{text!r} is not a number or true/false") from None


@app.command("check")
@handle_errors
def check(
    directory: Annotated[
        Path | None, typer.Argument(help="Directory of product files (default: shipped).")
    ] = None,
) -> None:
    """Validate every *.yaml product file; print every finding, exit 2 if any."""
    cat = _load(directory)
    for p in cat.all():
        where = "nationwide" if p.regions is None else "regions " + ",".join(p.regions)
        typer.echo(f"ok  {p.code:<22} {p.name_zh} / {p.name_en}  ({p.loan_product}; {where})")
    typer.echo(f"{len(cat)} product files valid")


@app.command("limit")
@handle_errors
def limit(
    code: Annotated[str, typer.Argument(help="Product code.")],
    signals: Annotated[
        list[str] | None, typer.Argument(help="Signal values as name=value (decimals, true/false).")
    ] = None,
    directory: Dir = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Evaluate a product's limit formula on signal values."""
    values: dict[str, object] = {}
    for pair in signals or []:
        name, sep, text = pair.partition("=")
        if not sep:
            raise ValidationError("signals", f"{pair!r} is not name=value")
        values[name] = _value(text)
    r = _load(directory).get(code).limit_for(values)
    if json_out:
        emit_json(
            {
                "limit": format_yuan(r.limit_fen),
                "flags": list(r.flags),
                "explanation_zh": r.explanation_zh,
                "explanation_en": r.explanation_en,
            }
        )
        return
    typer.echo(r.explanation_zh)
    typer.echo(r.explanation_en)
    typer.echo(f"limit {format_yuan(r.limit_fen)} CNY; flags: {', '.join(r.flags) or 'none'}")


@app.command("price")
@handle_errors
def price(
    code: Annotated[str, typer.Argument(help="Product code.")],
    grade: Annotated[str, typer.Argument(help="Risk grade, e.g. A.")],
    term: Annotated[int, typer.Argument(help="Term in months.")],
    discounts: Annotated[list[str] | None, typer.Argument(help="Discount codes.")] = None,
    directory: Dir = None,
) -> None:
    """Price a grade × term with optional discounts (rate, fees, all-in estimate)."""
    pr = _load(directory).get(code).price(grade, term, discounts or [])
    applied = ", ".join(f"{c} −{off}" for c, off in pr.discounts_applied) or "none"
    typer.echo(
        f"grid {pr.grid_rate} → rate {pr.annual_rate} (discounts: {applied}); "
        f"fees: monthly {pr.fees.monthly_rate}, upfront {pr.fees.upfront_rate}; "
        f"fee-equivalent {pr.fee_equivalent_rate}; all-in estimate {pr.all_in_estimate}"
    )
