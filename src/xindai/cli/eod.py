"""``xindai eod``: end of day for one business date."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import Progress

from xindai.cli.common import console, emit_json, handle_errors, parse_date
from xindai.kernel.errors import ValidationError

app = typer.Typer(
    help="End of day: accrual, due dates, overdue, penalty, buckets, write-offs.",
    no_args_is_help=True,
)


@app.command("run")
@handle_errors
def run(
    date: Annotated[str, typer.Option("--date", help="Business date, YYYY-MM-DD.")],
    chunk_size: Annotated[
        int, typer.Option(min=1, help="Loans per chunk (one transaction each).")
    ] = 2000,
    workers: Annotated[
        int, typer.Option(min=1, max=32, help="Parallel workers (PostgreSQL only).")
    ] = 1,
    database_url: Annotated[str | None, typer.Option(help="Overrides XINDAI_DATABASE_URL.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run end of day for --date. Idempotent per date and resumable after a crash."""
    from xindai.app.eod import run_eod
    from xindai.bootstrap import bootstrap, run_eod_parallel

    day = parse_date(date)
    platform = bootstrap(database_url=database_url)
    try:
        if workers > 1:
            if platform.settings.database_url.startswith("sqlite"):
                raise ValidationError(
                    "workers", "SQLite runs end of day with one worker; use PostgreSQL for more"
                )
            report = run_eod_parallel(
                platform.settings.database_url, day, workers=workers, chunk_size=chunk_size
            )
        elif json_out:
            report = run_eod(platform.uow, platform.products, day, chunk_size=chunk_size).as_dict()
        else:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task(f"end of day {day}", total=None)
                report = run_eod(
                    platform.uow,
                    platform.products,
                    day,
                    chunk_size=chunk_size,
                    on_progress=lambda n: progress.advance(task, n),
                ).as_dict()
        # movements left pending by money commands are logged after the day (best effort)
        publish_pending_flows(platform)
    finally:
        platform.close()
    if json_out:
        emit_json(report)
    else:
        for key, value in report.items():
            console.print(f"{key:>18}: {value}")


def publish_pending_flows(platform: Any) -> None:
    """Best effort: a failure leaves the fund movements pending and never fails end of day."""
    import logging

    from xindai.app.fund_flow import publish_pending

    try:
        publish_pending(platform.uow, platform.chain())
    except Exception:  # the day is done; the movements wait for the next publisher run
        logging.getLogger(__name__).warning("fund movements left pending", exc_info=True)


@app.command("status")
@handle_errors
def status(
    date: Annotated[str, typer.Option("--date", help="Business date, YYYY-MM-DD.")],
    database_url: Annotated[str | None, typer.Option(help="Overrides XINDAI_DATABASE_URL.")] = None,
) -> None:
    """Show the progress of end of day for --date."""
    from xindai.app.eod import eod_status
    from xindai.bootstrap import bootstrap

    platform = bootstrap(database_url=database_url)
    try:
        emit_json(eod_status(platform.uow, parse_date(date)))
    finally:
        platform.close()
