"""The real ``xindai`` console script: quote contract, bad input (exit 2, one line naming the field,
nothing written), and a loan served end to end through the CLI on SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

XINDAI = str(Path(sys.executable).parent / "xindai")


def run(*args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if db is not None:
        env["XINDAI_DATABASE_URL"] = f"sqlite:///{db}"
    return subprocess.run([XINDAI, *args], capture_output=True, text=True, env=env, timeout=120)


def test_quote_contract() -> None:
    out = run(
        "loan",
        "quote",
        "--principal",
        "10000",
        "--term",
        "12",
        "--method",
        "equal-installment",
        "--annual-rate",
        "0.12",
        "--start-date",
        "2026-01-15",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    q = json.loads(out.stdout)
    assert q["apr_simple"] == "0.1200" and q["apr_compound"] == "0.1268" and q["within_cap"] is True
    assert q["total_interest"] == "661.86"  # the last instalment absorbs the rounding residue
    first = q["installments"][0]
    assert set(first) >= {
        "period",
        "due_date",
        "principal",
        "interest",
        "fee",
        "total",
        "balance_after",
    }
    assert first["total"] == "888.49" and first["due_date"] == "2026-02-15"
    assert q["installments"][-1]["balance_after"] == "0.00"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--principal", "-100"], "principal"),
        (["--principal", "0"], "principal"),
        (["--principal", "100.001"], "principal"),
        (["--term", "0"], "term"),
        (["--method", "balloon"], "method"),
        (["--start-date", "2026-13-40"], "start_date"),
        (["--annual-rate", "0.30"], "annual_rate"),
        (["--annual-rate", "abc"], "annual_rate"),
    ],
)
def test_quote_bad_input_exits_2_naming_the_field(args: list[str], field: str) -> None:
    base = {
        "--principal": "10000",
        "--term": "12",
        "--method": "equal-installment",
        "--annual-rate": "0.12",
        "--start-date": "2026-01-15",
    }
    base[args[0]] = args[1]
    out = run("loan", "quote", *[x for kv in base.items() for x in kv], "--json")
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.strip().splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}:"), out.stderr
    assert out.stdout == ""


def test_a_loan_served_through_the_cli(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    assert run("db", "upgrade", db=db).returncode == 0
    opened = run(
        "loan",
        "open",
        "--product",
        "consumer-instalment",
        "--principal",
        "10000",
        "--term",
        "12",
        "--method",
        "equal-installment",
        "--annual-rate",
        "0.12",
        "--start-date",
        "2026-01-15",
        db=db,
    )
    assert opened.returncode == 0, opened.stderr
    number = json.loads(opened.stdout)["number"]
    assert (
        run(
            "loan",
            "disburse",
            number,
            "--amount",
            "10000",
            "--on",
            "2026-01-15",
            "--key",
            "d1",
            db=db,
        ).returncode
        == 0
    )
    eod = run("eod", "run", "--date", "2026-01-16", "--json", db=db)
    assert eod.returncode == 0 and json.loads(eod.stdout)["loans"] == 1
    again = run("eod", "run", "--date", "2026-01-16", "--json", db=db)
    assert json.loads(again.stdout)["already_done"] is True
    paid = run(
        "loan", "repay", number, "--amount", "888.49", "--on", "2026-02-15", "--key", "r1", db=db
    )
    assert paid.returncode == 0, paid.stderr
    replay = run(
        "loan", "repay", number, "--amount", "888.49", "--on", "2026-02-15", "--key", "r1", db=db
    )
    assert json.loads(replay.stdout)["replayed"] is True
    # bad input changes nothing
    before = run("loan", "show", number, "--json", db=db).stdout
    for bad in (["--amount", "-1"], ["--amount", "1.234"], ["--amount", "abc"]):
        out = run("loan", "repay", number, *bad, "--on", "2026-02-16", "--key", "bad", db=db)
        assert out.returncode == 2 and out.stderr.startswith("error: amount:")
    out = run("loan", "repay", number, "--amount", "1", "--on", "2026-02-31", "--key", "bad", db=db)
    assert out.returncode == 2 and "error: on:" in out.stderr
    assert run("loan", "show", number, "--json", db=db).stdout == before
    view = json.loads(before)
    assert view["balances"]["principal_receivable"] == "9211.51"
    assert view["schedule"][0]["settled"] is True
    # prepay in full, then a repayment on the closed loan is refused
    full = run(
        "loan", "prepay", number, "--amount", "9400", "--on", "2026-02-20", "--key", "p1", db=db
    )
    assert json.loads(full.stdout)["status"] == "closed", full.stderr
    closed = run(
        "loan", "repay", number, "--amount", "1", "--on", "2026-02-21", "--key", "r2", db=db
    )
    assert closed.returncode == 2 and "closed" in closed.stderr


def test_every_command_has_help() -> None:
    for args in (
        ["--help"],
        ["loan", "--help"],
        ["loan", "quote", "--help"],
        ["eod", "run", "--help"],
        ["db", "upgrade", "--help"],
        ["demo", "seed", "--help"],
        ["serve", "--help"],
    ):
        out = run(*args)
        assert out.returncode == 0 and "Usage" in out.stdout


def test_several_server_workers_need_a_shared_web_secret() -> None:
    """Each worker would sign cookies and CSRF tokens with its own secret: refused up front."""
    env = {k: v for k, v in os.environ.items() if k != "XINDAI_WEB_SECRET"}
    out = subprocess.run(
        [XINDAI, "serve", "--workers", "2"], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 2
    assert out.stderr == "error: workers: more than one worker needs XINDAI_WEB_SECRET set\n"
