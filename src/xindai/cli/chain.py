"""``xindai chain``: the consortium chain from the command line.

Offline (no server, no database):

* ``verify --bundle FILE [--json] [--operator-key VKEY] [--witness VKEY ... --threshold K]`` —
  runs every check of :func:`xindai.chain.bundle.verify_bundle` and prints them. Exit status:
  0 when the bundle is valid, 1 when any check fails (the failing checks are printed), 2 when the
  input cannot be read as a bundle (missing file, not JSON, not a bundle's shape, bad pinned key).
* ``demo-bundle --out FILE`` — builds the deterministic demo log in memory (3 members, 2-of-3
  witnesses) and writes a valid bundle, for docs and end-to-end tests.

On the database (``--database-url``, default ``XINDAI_DATABASE_URL``):

* ``audit`` — recompute the stored log (entries, subtree hashes, signatures, stored checkpoints)
  and name the first bad index; exit 0 when intact, 1 when tampered.
* ``export-bundle --entry N --out FILE`` — the proof bundle of entry N against the latest
  quorum-cosigned checkpoint, for ``verify``.
* ``cosign`` — the operator signs the current tree head and the hosted witnesses cosign it.
* ``stage-report LINE`` — interest and idle funds of a staged line vs the same limit as a lump sum.
* ``line LINE`` — the stage plan and each stage's status.
* ``demo-farm`` — seed the reference farm line (200,000 in three stages, two released).
* ``publish-flows [--loan REF]`` — append the pending fund movements (the outbox servicing writes
  with every money command) to the log, each exactly once; exit 1 if one could not be logged.

Exit status 2 for bad input or a refused operation (one line on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from xindai.chain.bundle import BundleReport, verify_bundle
from xindai.chain.demo import demo_bundle
from xindai.chain.note import VerifierKey, parse_vkey
from xindai.chain.witness import QuorumPolicy
from xindai.cli.common import emit_json, handle_errors
from xindai.kernel import ValidationError

app = typer.Typer(
    help="Consortium chain: verify bundles offline; audit, export bundles, cosign, staged lines.",
    no_args_is_help=True,
)

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def _fail_unreadable(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]cannot read bundle:[/] {message}", highlight=False)
    return typer.Exit(EXIT_UNREADABLE)


def _print_report(report: BundleReport, console: Console) -> None:
    table = Table(title="proof bundle checks", show_lines=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in report.checks:
        mark = "[green]PASS[/]" if check.ok else "[bold red]FAIL[/]"
        table.add_row(check.name, mark, check.detail)
    console.print(table)
    if report.trust:
        console.print(f"trust anchors: {report.trust}", highlight=False)
    if report.valid:
        console.print("[bold green]VALID[/]: every check passed")
    else:
        failed = ", ".join(c.name for c in report.failures)
        console.print(f"[bold red]INVALID[/]: failed {failed}", highlight=False)


@app.command()
def verify(
    bundle: Annotated[Path, typer.Option("--bundle", help="proof bundle JSON file")],
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    operator_key: Annotated[
        str | None, typer.Option("--operator-key", help="pin the operator's vkey")
    ] = None,
    witness: Annotated[
        list[str] | None, typer.Option("--witness", help="pin a witness cosigner vkey (repeat)")
    ] = None,
    threshold: Annotated[
        int | None, typer.Option("--threshold", help="k of the pinned witnesses")
    ] = None,
) -> None:
    """Check a proof bundle: entry signature and key validity, inclusion, checkpoint, quorum."""
    try:
        data: Any = json.loads(bundle.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail_unreadable(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise _fail_unreadable(f"not JSON: {exc}") from None
    pinned_operator: VerifierKey | None = None
    pinned_policy: QuorumPolicy | None = None
    try:
        if operator_key is not None:
            pinned_operator = parse_vkey(operator_key, "--operator-key")
        if witness:
            pinned_policy = QuorumPolicy(
                threshold if threshold is not None else len(witness),
                tuple(parse_vkey(w, "--witness") for w in witness),
            )
    except ValidationError as exc:
        raise _fail_unreadable(str(exc)) from None
    report = verify_bundle(data, operator_key=pinned_operator, policy=pinned_policy)
    console = Console(soft_wrap=True)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_report(report, console)
    if not report.well_formed:
        if not as_json:
            raise _fail_unreadable(report.checks[0].detail)
        raise typer.Exit(EXIT_UNREADABLE)
    raise typer.Exit(EXIT_VALID if report.valid else EXIT_INVALID)


@app.command("demo-bundle")
def demo_bundle_command(
    out: Annotated[Path, typer.Option("--out", help="where to write the bundle JSON")],
) -> None:
    """Build a small demo log in memory (3 members, 2-of-3 witnesses) and write a valid bundle."""
    bundle = demo_bundle()
    out.write_text(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    entry = bundle["entry"]
    typer.echo(
        f"wrote {out}: entry {entry['index']} ({entry['data']['kind']} by "
        f"{entry['data']['member']}), checkpoint with 2 of 3 witness cosignatures"
    )


DbUrl = Annotated[str | None, typer.Option(help="Overrides XINDAI_DATABASE_URL.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _service(database_url: str | None) -> Any:
    from xindai.bootstrap import bootstrap

    platform = bootstrap(database_url=database_url)
    return platform, platform.chain()


@app.command()
@handle_errors
def audit(database_url: DbUrl = None, as_json: Json = False) -> None:
    """Recompute the stored log and name the first bad index (exit 1 when tampered)."""
    platform, chain = _service(database_url)
    try:
        report = chain.audit()
    finally:
        platform.close()
    if as_json:
        emit_json(report)
    elif report["ok"]:
        typer.echo(f"OK: {report['size']} entries — {report['detail']}")
        for cp in report["checkpoints"]:
            typer.echo(f"  checkpoint size {cp['size']}: {cp['detail']}")
    else:
        bad = report["first_bad_index"]
        where = f"first bad index {bad}" if bad is not None else "a stored checkpoint"
        typer.echo(f"TAMPERED: {where} — {report['detail']}")
    raise typer.Exit(0 if report["ok"] else 1)


@app.command("export-bundle")
@handle_errors
def export_bundle_command(
    entry: Annotated[int, typer.Option("--entry", help="log index of the entry")],
    out: Annotated[Path, typer.Option("--out", help="where to write the bundle JSON")],
    database_url: DbUrl = None,
) -> None:
    """Write the proof bundle of one entry (against the latest quorum-cosigned checkpoint)."""
    platform, chain = _service(database_url)
    try:
        bundle = chain.export_bundle(entry)
    finally:
        platform.close()
    out.write_text(json.dumps(bundle, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    data = bundle["entry"]["data"]
    size = bundle["checkpoint"].split("\n")[1]
    typer.echo(
        f"wrote {out}: entry {entry} ({data['kind']} by {data['member']}), checkpoint size {size}"
    )


@app.command()
@handle_errors
def cosign(database_url: DbUrl = None, as_json: Json = False) -> None:
    """Sign the current tree head and collect the hosted witnesses' cosignatures."""
    platform, chain = _service(database_url)
    try:
        signed = chain.cosign()
        names = chain.policy.cosigners(signed)
    finally:
        platform.close()
    if as_json:
        emit_json({"size": signed.checkpoint.size, "cosigners": names, "note": signed.text()})
    else:
        typer.echo(signed.text(), nl=False)
        typer.echo(f"cosigned by {len(names)} of {len(chain.policy.witnesses)} witnesses")


@app.command("stage-report")
@handle_errors
def stage_report_command(
    line: Annotated[str, typer.Argument(help="credit line id, e.g. SCF-2026-0001")],
    database_url: DbUrl = None,
    as_json: Json = False,
) -> None:
    """Interest and idle funds of a staged line against the same limit drawn as a lump sum."""
    from xindai.app.supply_chain import stage_report

    platform, chain = _service(database_url)
    try:
        report = stage_report(platform.uow, platform.products, chain, line)
    finally:
        platform.close()
    if as_json:
        emit_json(report)
        return
    table = Table(
        title=f"{line}: staged vs lump sum ({report['limit']} at {report['annual_rate']})"
    )
    table.add_column("stage")
    table.add_column("amount", justify="right")
    table.add_column("released on")
    table.add_column("idle days if lump sum", justify="right")
    for row in report["stages"]:
        table.add_row(
            row["stage"],
            row["amount"],
            row["released_on"] or "never",
            str(row["idle_days_if_lump_sum"]),
        )
    console = Console(soft_wrap=True)
    console.print(table)
    staged, lump = report["staged"], report["lump_sum"]
    typer.echo(f"staged:   drawn {staged['drawn']}, interest {staged['interest']}, idle 0")
    typer.echo(
        f"lump sum: drawn {lump['drawn']}, interest {lump['interest']}, "
        f"idle {lump['idle_fen_days']} fen-days (average idle balance {lump['average_idle_balance']})"
    )
    typer.echo(f"interest saved by staging: {report['interest_saved']}")


@app.command("line")
@handle_errors
def line_command(
    line: Annotated[str, typer.Argument(help="credit line id")],
    database_url: DbUrl = None,
) -> None:
    """The stage plan of a line and the status of each stage (JSON)."""
    from xindai.app.supply_chain import line_status

    platform, chain = _service(database_url)
    try:
        emit_json(line_status(chain, line))
    finally:
        platform.close()


@app.command("demo-farm")
@handle_errors
def demo_farm(database_url: DbUrl = None) -> None:
    """Seed the reference farm line on the database (demo keys; synthetic data)."""
    from xindai.app.supply_chain import FARM_MEMBERS, run_farm_demo
    from xindai.chain.demo import demo_key

    platform, chain = _service(database_url)
    try:
        keys = {name: demo_key(name) for name in FARM_MEMBERS}
        result = run_farm_demo(platform.uow, platform.products, chain, keys)
    finally:
        platform.close()
    released = ", ".join(f"{r['stage']} {r['amount']} on {r['on']}" for r in result["releases"])
    typer.echo(
        f"line {result['line']} (loan {result['loan_number']}): released {released}; "
        f"log size {result['size']}"
    )


@app.command("publish-flows")
@handle_errors
def publish_flows(
    loan: Annotated[
        str | None, typer.Option("--loan", help="only this loan (UUID, number or id)")
    ] = None,
    database_url: DbUrl = None,
    as_json: Json = False,
) -> None:
    """Log the pending fund movements (written by servicing with each money command) exactly once.

    Exit status 1 when a movement could not be logged (it stays pending; the loan's later
    movements wait behind it so the order holds)."""
    from xindai.app import servicing
    from xindai.app.fund_flow import publish_pending

    platform, chain = _service(database_url)
    try:
        uuid = servicing.show_loan(platform.uow, loan)["id"] if loan is not None else None
        total = publish_pending(platform.uow, chain, loan=uuid)
    finally:
        platform.close()
    failed = total["failed"]
    if as_json:
        emit_json(total)
    else:
        typer.echo(
            f"published {total['published']} movement(s); {total['already_on_log']} already on "
            f"the log (marked); {total['pending']} pending"
            + ("; another publisher holds the lease" if total["busy"] else "")
        )
        for item in failed:
            typer.echo(f"  not logged: loan {item['loan']} {item['movement']}: {item['error']}")
    raise typer.Exit(1 if failed else 0)
