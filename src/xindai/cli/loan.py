"""``xindai loan``: quote, open, disburse, repay, prepay, write off and show loans."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from xindai.cli.common import console, emit_json, handle_errors, parse_date
from xindai.money.money import parse_yuan
from xindai.money.rates import parse_rate

app = typer.Typer(help="Quotes and loan servicing.", no_args_is_help=True)

DbUrl = Annotated[str | None, typer.Option(help="Overrides XINDAI_DATABASE_URL.")]
Key = Annotated[
    str, typer.Option("--key", help="Idempotency key: a repeat returns the first result.")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LoanRef = Annotated[str, typer.Argument(help="Loan id, UUID or number.")]
ValueDate = Annotated[str, typer.Option(help="Value date, YYYY-MM-DD.")]


@app.command("quote")
@handle_errors
def quote(
    principal: Annotated[str, typer.Option(help="Loan amount in yuan, e.g. 10000 or 10000.50.")],
    term: Annotated[str, typer.Option(help="Number of monthly periods.")],
    method: Annotated[
        str,
        typer.Option(
            help="equal-installment | equal-principal | interest-only | bullet | flat-fee"
        ),
    ],
    annual_rate: Annotated[
        str, typer.Option(help="Annual contract rate as a fraction, e.g. 0.12.")
    ],
    upfront_fee: Annotated[
        str, typer.Option(help="Fee deducted or paid at disbursement, yuan.")
    ] = "0",
    monthly_fee_rate: Annotated[
        str, typer.Option(help="Periodic fee per month on the principal.")
    ] = "0",
    start_date: Annotated[
        str | None, typer.Option(help="Disbursement date, YYYY-MM-DD (default today).")
    ] = None,
    first_due_date: Annotated[
        str | None, typer.Option(help="First due date if not one month after start.")
    ] = None,
    json_out: Json = False,
) -> None:
    """Price a loan: schedule, total cost and the APR (年化利率, IRR method) with the 24% cap check."""
    from datetime import date as _date

    from xindai.app.quoting import (
        build_quote,
        ensure_within_cap,
        parse_quote_request,
        quote_to_dict,
    )

    raw: dict[str, object] = {
        "principal": principal,
        "term": term,
        "method": method,
        "annual_rate": annual_rate,
        "upfront_fee": upfront_fee,
        "monthly_fee_rate": monthly_fee_rate,
        "start_date": start_date or _date.today().isoformat(),
    }
    if first_due_date:
        raw["first_due_date"] = first_due_date
    q = build_quote(parse_quote_request(raw))
    ensure_within_cap(q)
    data = quote_to_dict(q)
    if json_out:
        emit_json(data)
        return
    table = Table(title=f"年化利率（单利）APR {data['apr_simple']} · 复利 {data['apr_compound']}")
    for col in ("period", "due_date", "principal", "interest", "fee", "total", "balance_after"):
        table.add_column(col, justify="right")
    rows: list[dict[str, object]] = data["installments"]  # type: ignore[assignment]
    for row in rows:
        table.add_row(
            *(
                str(row[c])
                for c in (
                    "period",
                    "due_date",
                    "principal",
                    "interest",
                    "fee",
                    "total",
                    "balance_after",
                )
            )
        )
    console.print(table)
    console.print(
        f"total interest {data['total_interest']} · total fees {data['total_fees']} · within cap {data['within_cap']}"
    )


@app.command("open")
@handle_errors
def open_(
    product: Annotated[str, typer.Option(help="Product code (see products/loan_products).")],
    principal: Annotated[str, typer.Option(help="Amount (or line limit) in yuan.")],
    term: Annotated[int, typer.Option(help="Monthly periods.")],
    method: Annotated[str, typer.Option(help="Repayment method offered by the product.")],
    annual_rate: Annotated[str, typer.Option(help="Annual rate, e.g. 0.12.")],
    start_date: Annotated[str, typer.Option(help="Contract start, YYYY-MM-DD.")],
    database_url: DbUrl = None,
) -> None:
    """Create a contracted loan from accepted terms (not yet disbursed)."""
    from xindai.app.servicing import OpenLoan, open_loan
    from xindai.bootstrap import bootstrap

    cmd = OpenLoan(
        product_code=product,
        principal=parse_yuan(principal, "principal"),
        term=term,
        method=method,
        annual_rate=parse_rate(annual_rate, "annual_rate"),
        start_date=parse_date(start_date, "start_date"),
    )
    platform = bootstrap(database_url=database_url)
    try:
        emit_json(open_loan(platform.uow, platform.products, cmd))
    finally:
        platform.close()


def _money_cmd(
    kind: str,
    loan: str,
    amount: str | None,
    on: str,
    key: str,
    database_url: str | None,
    mode: str | None = None,
) -> None:
    from xindai.app import fund_flow, servicing
    from xindai.bootstrap import bootstrap

    day = parse_date(on, "on")
    fen = parse_yuan(amount, "amount") if amount is not None else 0
    platform = bootstrap(database_url=database_url)
    try:
        args = (platform.uow, platform.products, loan)
        if kind == "disburse":
            result = servicing.disburse(*args, fen, day, key)
        elif kind == "repay":
            result = servicing.repay(*args, fen, day, key)
        elif kind == "prepay":
            pm = servicing.parse_prepayment_mode(mode)
            result = servicing.prepay(*args, fen, day, key, pm)
        else:
            result = servicing.write_off(*args, day, key)
        # the movements were stored with the journal entry; log them now, best effort
        fund_flow.publish_after_command(platform.uow, platform.chain, loan)
    finally:
        platform.close()
    emit_json(result)


@app.command("disburse")
@handle_errors
def disburse(
    loan: LoanRef,
    amount: Annotated[str, typer.Option(help="Amount in yuan (a tranche for credit lines).")],
    on: ValueDate,
    key: Key,
    database_url: DbUrl = None,
) -> None:
    """Disburse a loan or draw a tranche."""
    _money_cmd("disburse", loan, amount, on, key, database_url)


@app.command("repay")
@handle_errors
def repay(
    loan: LoanRef,
    amount: Annotated[str, typer.Option(help="Amount received, yuan.")],
    on: ValueDate,
    key: Key,
    database_url: DbUrl = None,
) -> None:
    """Apply a repayment (penalty → fees → interest → principal by default, oldest first)."""
    _money_cmd("repay", loan, amount, on, key, database_url)


@app.command("prepay")
@handle_errors
def prepay(
    loan: LoanRef,
    amount: Annotated[str, typer.Option(help="Amount received, yuan.")],
    on: ValueDate,
    key: Key,
    mode: Annotated[
        str, typer.Option(help="reduce-term | reduce-installment")
    ] = "reduce-installment",
    database_url: DbUrl = None,
) -> None:
    """Early repayment, full or partial (interest only for the days used)."""
    _money_cmd("prepay", loan, amount, on, key, database_url, mode)


@app.command("write-off")
@handle_errors
def write_off(
    loan: LoanRef,
    on: ValueDate,
    key: Key,
    database_url: DbUrl = None,
) -> None:
    """Write a loan off before its product's automatic write-off DPD."""
    _money_cmd("write-off", loan, None, on, key, database_url)


@app.command("show")
@handle_errors
def show(
    loan: LoanRef,
    database_url: DbUrl = None,
    json_out: Json = False,
) -> None:
    """Show a loan: terms, status, balances and schedule."""
    from xindai.app.servicing import show_loan
    from xindai.bootstrap import bootstrap

    platform = bootstrap(database_url=database_url)
    try:
        view = show_loan(platform.uow, loan)
    finally:
        platform.close()
    if json_out:
        emit_json(view)
        return
    console.print(
        f"[bold]{view['number']}[/bold] {view['product_code']} · {view['status']} · DPD {view['dpd']} ({view['bucket']})"
    )
    for k, v in view["balances"].items():
        console.print(f"  {k:>22}: {v}")
    table = Table()
    for col in ("period", "due_date", "principal", "interest", "fee", "total", "paid", "settled"):
        table.add_column(col, justify="right")
    for row in view["schedule"]:
        table.add_row(
            *(
                str(row[c])
                for c in (
                    "period",
                    "due_date",
                    "principal",
                    "interest",
                    "fee",
                    "total",
                    "paid",
                    "settled",
                )
            )
        )
    console.print(table)
