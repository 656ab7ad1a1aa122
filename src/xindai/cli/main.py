"""``xindai``: serve the platform, migrate, seed demo data, run end of day, quote and service loans.

Sub-commands of other capabilities (``model``, ``risk``, ``chain``) are mounted when present.
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer
from rich.table import Table

from xindai.cli.common import console, emit_json, handle_errors, parse_date
from xindai.cli.eod import app as eod_app
from xindai.cli.loan import app as loan_app

app = typer.Typer(
    name="xindai",
    help="xindai 信贷 — a lending platform: scenario credit, staged supply-chain credit, real-time risk.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data (clearly synthetic).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(eod_app, name="eod")
app.add_typer(loan_app, name="loan")

for _name, _module, _help in (
    (
        "model",
        "xindai.cli.model",
        "Credit models: train, score, compare, explain, report, monitor.",
    ),
    ("risk", "xindai.cli.risk", "Real-time risk engine: rules, backtests, replay, worker."),
    ("chain", "xindai.cli.chain", "Consortium chain: verify proof bundles offline."),
):
    try:
        _sub = importlib.import_module(_module).app
    except ModuleNotFoundError as _err:  # a capability not installed in this build
        if _err.name != _module:
            raise
        continue
    app.add_typer(_sub, name=_name, help=_help)


@db_app.command("upgrade")
@handle_errors
def db_upgrade(
    database_url: Annotated[str | None, typer.Option(help="Overrides XINDAI_DATABASE_URL.")] = None,
) -> None:
    """Create or migrate the database to the latest schema."""
    from xindai.bootstrap import upgrade_database

    revision = upgrade_database(database_url)
    console.print(f"database at revision [bold]{revision}[/bold]")


@demo_app.command("seed")
@handle_errors
def demo_seed(
    loans: Annotated[int, typer.Option(min=1, max=100_000, help="How many demo loans.")] = 60,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 7,
    until: Annotated[str, typer.Option(help="Business date the demo is run up to.")] = "2026-11-27",
    database_url: Annotated[str | None, typer.Option(help="Overrides XINDAI_DATABASE_URL.")] = None,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Do nothing if loans exist.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Seed a synthetic loan book (every state: current, overdue, prepaid, written off, closed)."""
    from xindai.app.demo import seed_demo
    from xindai.bootstrap import bootstrap

    platform = bootstrap(database_url=database_url)
    try:
        summary = seed_demo(
            platform.uow,
            platform.products,
            if_empty=if_empty,
            loans=loans,
            seed=seed,
            until=parse_date(until, "until"),
        )
    finally:
        platform.close()
    if json_out:
        emit_json(summary)
        return
    if summary.get("skipped"):
        console.print(f"demo seed skipped: {summary['skipped']}")
        return
    table = Table(title="demo book (synthetic)")
    table.add_column("status")
    table.add_column("loans", justify="right")
    for status, count in summary["by_status"].items():
        table.add_row(status, str(count))
    console.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
) -> None:
    """Serve the HTTP API and web pages (OpenAPI at /docs)."""
    import uvicorn

    uvicorn.run("xindai.api.app:create_app", factory=True, host=host, port=port, workers=workers)


if __name__ == "__main__":
    app()
