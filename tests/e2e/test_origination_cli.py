"""The real ``xindai`` console script: ``demo seed`` builds the synthetic origination population
(applications in every state through the real pipeline), ``apply`` reads, reviews and runs the
daily limit review; bad input exits 2 with one line naming the field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

XINDAI = str(Path(sys.executable).parent / "xindai")


def run(*args: str, db: Path, models: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "XINDAI_DATABASE_URL": f"sqlite:///{db}",
        "XINDAI_MODEL_REGISTRY": str(models),
    }
    return subprocess.run([XINDAI, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_demo_population_and_apply_commands(tmp_path: Path) -> None:
    db, models = tmp_path / "x.db", tmp_path / "models"
    assert run("db", "upgrade", db=db, models=models).returncode == 0
    out = run("demo", "seed", "--loans", "10", "--applicants", "8", "--json", db=db, models=models)
    assert out.returncode == 0, out.stderr
    pop = json.loads(out.stdout)["origination"]
    assert pop["synthetic"] is True and pop["applications"] == 64
    for status in ("offered", "disbursed", "declined", "referred", "refused", "line-open"):
        assert pop["by_status"].get(status, 0) > 0, status
    queue = json.loads(run("apply", "reviews", "--json", db=db, models=models).stdout)
    assert queue and all(r["status"] == "open" for r in queue)
    shown = json.loads(
        run("apply", "show", queue[0]["application"], "--json", db=db, models=models).stdout
    )
    assert shown["status"] in ("referred", "in-review")
    out = run(
        "apply", "resolve", queue[0]["review"], "--analyst", "ops-1", "--decline", "--json",
        db=db, models=models,
    )  # fmt: skip
    assert out.returncode == 2 and out.stderr.strip() == (
        "error: note: a decline needs the reason given to the borrower"
    )
    limits = json.loads(
        run("apply", "review-limits", "--on", "2026-11-28", "--json", db=db, models=models).stdout
    )
    assert limits["errors"] == 0 and limits["reviewed"] > 0
    again = json.loads(
        run("apply", "review-limits", "--on", "2026-11-28", "--json", db=db, models=models).stdout
    )
    assert again["reviewed"] == 0
