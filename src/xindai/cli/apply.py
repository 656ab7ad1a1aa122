"""``xindai apply …``: origination for operations — read an application and its audit trail, work
the human-review queue, and run the daily dynamic-limit review (a cron job)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.table import Table

from xindai.cli.common import console, emit_json, handle_errors, parse_date

app = typer.Typer(
    help="Origination: applications, the review queue, the daily dynamic-limit review.",
    no_args_is_help=True,
)

DbOpt = Annotated[str | None, typer.Option(help="Overrides XINDAI_DATABASE_URL.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@contextmanager
def _origination(database_url: str | None) -> Iterator[Any]:
    from xindai.bootstrap import bootstrap

    platform = bootstrap(database_url=database_url)
    try:
        yield platform.origination()
    finally:
        platform.close()


def _run(database_url: str | None, fn: Callable[[Any], Any]) -> Any:
    with _origination(database_url) as o:
        return fn(o)


@app.command("show")
@handle_errors
def show(
    ref: Annotated[str, typer.Argument(help="Application number (AP…) or id.")],
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """An application: status, decision with reasons (zh-CN / English), offer and APR."""
    from xindai.app.origination import application_view

    view = _run(database_url, lambda o: application_view(o, ref))
    if json_out:
        emit_json(view)
        return
    console.print(
        f"[bold]{view['number']}[/bold] {view['product_code']} {view['amount']} CNY × {view['term']} — {view['status']}"
    )
    for r in (view["decision"] or {}).get("reasons", []):
        console.print(f"  • {r['zh']} / {r['en']}")
    if view["offer"]:
        t = view["offer"]["terms"]
        console.print(
            f"  {t['disclosure_zh']}  ({t['disclosure_en']})  total cost {t['total_cost']} CNY"
        )


@app.command("audit")
@handle_errors
def audit(
    ref: Annotated[str, typer.Argument(help="Application number or id.")],
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Every step of an application: outcome and server time."""
    from xindai.app.origination import audit_trail

    rows = _run(database_url, lambda o: audit_trail(o, ref))
    if json_out:
        emit_json(rows)
        return
    table = Table(title=f"audit trail {ref}")
    for col in ("at", "step", "outcome", "detail"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["at"], r["step"], r["outcome"], json.dumps(r["detail"], ensure_ascii=False)[:80]
        )
    console.print(table)


@app.command("reviews")
@handle_errors
def reviews(
    status: Annotated[str, typer.Option(help="open | closed | all")] = "open",
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The human-review queue (referrals and borrowers' requests)."""
    from xindai.app.origination import list_reviews

    rows = _run(database_url, lambda o: list_reviews(o, None if status == "all" else status))
    if json_out:
        emit_json(rows)
        return
    table = Table(title=f"review queue ({status})")
    for col in ("review", "application", "product", "kind", "reason"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["review"], r["application"], r["product"], r["kind"], r["reason"][:60])
    console.print(table)


@app.command("resolve")
@handle_errors
def resolve(
    review: Annotated[str, typer.Argument(help="Review id.")],
    analyst: Annotated[str, typer.Option(help="Who decides.")],
    approve: Annotated[bool, typer.Option("--approve/--decline", help="The analyst's decision.")],
    note: Annotated[str, typer.Option(help="The reason (required to decline).")] = "",
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """An analyst approves (an offer is made) or declines a reviewed application."""
    from xindai.app.origination import resolve_review

    resolution = "approve" if approve else "decline"
    view = _run(
        database_url,
        lambda o: resolve_review(o, review, analyst=analyst, resolution=resolution, note=note),
    )
    if json_out:
        emit_json(view)
        return
    console.print(f"{view['number']}: {view['status']}")


@app.command("review-limits")
@handle_errors
def review_limits_cmd(
    on: Annotated[str, typer.Option("--on", help="Business date, YYYY-MM-DD.")],
    database_url: DbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The daily job: re-evaluate turnover and carbon limits and risk levels (idempotent per day)."""
    from xindai.app.limits import review_limits

    day = parse_date(on, "on")
    summary = _run(database_url, lambda o: review_limits(o, day))
    if json_out:
        emit_json(summary)
        return
    console.print(
        f"limits reviewed {summary['reviewed']}, changed {summary['changed']},"
        f" frozen {summary['frozen']}, errors {summary['errors']} ({summary['on']})"
    )
