"""``xindai loan disburse`` logs its fund movements when it can and never fails because it could
not; ``xindai chain publish-flows`` logs what was left pending, exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

XINDAI = str(Path(sys.executable).parent / "xindai")


def run(db: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "XINDAI_DATABASE_URL": f"sqlite:///{db}", **env}
    return subprocess.run([XINDAI, *args], capture_output=True, text=True, env=full, timeout=120)


def test_publish_flows_after_a_failed_best_effort(tmp_path: Path) -> None:
    db = tmp_path / "flows.db"
    assert run(db, "db", "upgrade").returncode == 0
    opened = run(
        db,
        *("loan", "open", "--product", "consumer-instalment", "--principal", "10000"),
        *("--term", "3", "--method", "equal-installment", "--annual-rate", "0.12"),
        *("--start-date", "2026-01-15"),
    )
    assert opened.returncode == 0, opened.stderr
    number = json.loads(opened.stdout)["number"]
    disburse = ("loan", "disburse", number, "--amount", "10000", "--on", "2026-01-15")
    broken = run(db, *disburse, "--key", "d1", XINDAI_CHAIN_KEYS=str(tmp_path / "none.json"))
    assert broken.returncode == 0, broken.stderr  # the money moved; the log waits
    assert json.loads(broken.stdout)["status"] == "active"

    published = run(db, "chain", "publish-flows", "--json")
    assert published.returncode == 0, published.stderr
    report = json.loads(published.stdout)
    assert (report["published"], report["pending"], report["failed"]) == (2, 0, [])
    again = run(db, "chain", "publish-flows", "--loan", number)
    assert again.returncode == 0
    assert again.stdout.startswith(
        "published 0 movement(s); 0 already on the log (marked); 0 pending"
    )

    # a replayed disbursement stores nothing new; the log still holds each movement once
    assert run(db, *disburse, "--key", "d1").returncode == 0
    audit = run(db, "chain", "audit", "--json")
    assert audit.returncode == 0 and json.loads(audit.stdout)["size"] == 3  # lender + 2 moves

    # a repayment left pending is logged by end of day
    repay = ("loan", "repay", number, "--amount", "50", "--on", "2026-01-15", "--key", "r1")
    assert run(db, *repay, XINDAI_CHAIN_KEYS=str(tmp_path / "none.json")).returncode == 0
    assert run(db, "eod", "run", "--date", "2026-01-16", "--json").returncode == 0
    audit = run(db, "chain", "audit", "--json")
    assert json.loads(audit.stdout)["size"] == 4
