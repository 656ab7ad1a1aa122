"""``xindai chain``: verify consortium-chain proof bundles offline (no server, no database).

Commands:

* ``verify --bundle FILE [--json] [--operator-key VKEY] [--witness VKEY ... --threshold K]`` —
  runs every check of :func:`xindai.chain.bundle.verify_bundle` and prints them. Exit status:
  0 when the bundle is valid, 1 when any check fails (the failing checks are printed), 2 when the
  input cannot be read as a bundle (missing file, not JSON, not a bundle's shape, bad pinned key).
* ``demo-bundle --out FILE`` — builds the deterministic demo log in memory (3 members, 2-of-3
  witnesses) and writes a valid bundle, for docs and end-to-end tests.

The lead mounts ``app`` as ``xindai chain``.
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
from xindai.kernel import ValidationError

app = typer.Typer(
    help="Consortium chain: verify proof bundles offline (no server, no database).",
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
