"""``xindai``: serve the platform, migrate, seed demo data, run end of day, quote and service loans.

Sub-commands of other capabilities (``model``, ``risk``, ``chain``) are mounted when present.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperCommand, TyperGroup

from xindai.cli.common import console, emit_json, handle_errors, parse_date
from xindai.cli.eod import app as eod_app
from xindai.cli.loan import app as loan_app
from xindai.cli.product import app as product_app
from xindai.kernel.errors import ValidationError

# Capabilities whose CLI pulls in heavy libraries (pandas, scikit-learn, LightGBM) load only when
# their command is run, so `xindai loan quote` starts in a fraction of a second.
LAZY_COMMANDS = {
    "model": (
        "xindai.cli.model",
        "Credit models: train, score, compare, explain, report, monitor.",
    ),
    "risk": ("xindai.cli.risk", "Real-time risk engine: rules, backtests, replay, worker."),
    "chain": (
        "xindai.cli.chain",
        "Consortium chain: audit, bundles, cosigning, staged supply-chain lines.",
    ),
    "apply": (
        "xindai.cli.apply",
        "Origination: applications, the review queue, the daily dynamic-limit review.",
    ),
}


class LazyGroup(TyperGroup):
    """A command group that imports the lazy sub-commands only to run them.

    ``resolve_command`` (running a command) loads the real sub-app; ``get_command`` on its own
    (listing commands in ``--help``) answers with a stub carrying the short help.
    """

    _resolving = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *LAZY_COMMANDS]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        self._resolving = True
        try:
            return super().resolve_command(ctx, args)
        finally:
            self._resolving = False

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, short_help = LAZY_COMMANDS[cmd_name]
        if not self._resolving:
            return TyperCommand(cmd_name, help=short_help)
        command = typer.main.get_command(importlib.import_module(module).app)
        command.name = cmd_name
        return command


app = typer.Typer(
    name="xindai",
    cls=LazyGroup,
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
app.add_typer(product_app, name="product")


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
    applicants: Annotated[
        int, typer.Option(min=0, max=1000, help="Synthetic applicants per scenario product.")
    ] = 8,
) -> None:
    """Seed a synthetic loan book (every state: current, overdue, prepaid, written off, closed)
    and synthetic applicants for every scenario product through the real origination pipeline
    (approved and disbursed, declined with reasons, referred to review, refused)."""
    from xindai.app.demo import seed_demo, seed_population_on
    from xindai.bootstrap import bootstrap

    platform = bootstrap(database_url=database_url)
    try:
        day = parse_date(until, "until")
        summary = seed_demo(
            platform.uow,
            platform.products,
            if_empty=if_empty,
            loans=loans,
            seed=seed,
            until=day,
        )
        if not summary.get("skipped") and applicants:
            summary["origination"] = seed_population_on(
                platform.origination, day, per_product=applicants, seed=seed
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
    if "origination" in summary:
        apps = Table(title="demo applications (synthetic)")
        apps.add_column("status")
        apps.add_column("applications", justify="right")
        for status, count in summary["origination"]["by_status"].items():
            apps.add_row(status, str(count))
        console.print(apps)


@app.command()
@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes.")] = 1,
) -> None:
    """Serve the HTTP API and web pages (OpenAPI at /docs)."""
    import os

    import uvicorn

    if workers > 1 and not os.environ.get("XINDAI_WEB_SECRET"):
        # each worker would sign borrowers' cookies and CSRF tokens with its own random secret,
        # so a form served by one worker would be refused by the next
        raise ValidationError("workers", "more than one worker needs XINDAI_WEB_SECRET set")

    uvicorn.run("xindai.server:create_app", factory=True, host=host, port=port, workers=workers)


if __name__ == "__main__":
    app()
