"""``xindai model`` end to end: through Typer's CliRunner on the app, and real subprocesses (bad input)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from xindai.cli.model import app
from xindai.scoring import TrainConfig, load_training_data
from xindai.scoring.frame import numeric_values
from xindai.scoring.paths import dataset_file
from xindai.scoring.training import splits_for

runner = CliRunner()


def german() -> Path:
    return dataset_file("german_credit/germancredit.csv", "german_credit.csv.gz")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "m"
    res = runner.invoke(
        app,
        ["train", "--data", str(german()), "--target", "creditability", "--kind", "auto",
         "--folds", "3", "--out", str(out), "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["auc"] > 0.74 and info["kind"] in {"gbm", "scorecard", "blend"}
    return out


def test_score_writes_one_row_per_input_row_in_order(model_dir: Path, tmp_path: Path) -> None:
    df = pd.read_csv(german()).drop(columns=["creditability"])  # the target may be absent
    df = df.iloc[::-1].reset_index(drop=True)
    df.loc[0, "purpose"] = "a category never seen"
    df.loc[1, "credit_amount"] = None
    df["unseen_column"] = 1
    data = tmp_path / "new.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "scores.csv"
    res = runner.invoke(
        app, ["score", "--model", str(model_dir), "--data", str(data), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["pd", "score", "reasons"]
    assert len(scores) == len(df)
    assert scores["pd"].between(0, 1).all() and scores["score"].notna().all()
    # same rows, reversed, give the same scores reversed
    res2 = runner.invoke(
        app,
        [
            "score",
            "--model",
            str(model_dir),
            "--data",
            str(german()),
            "--out",
            str(tmp_path / "s2.csv"),
        ],
    )
    assert res2.exit_code == 0
    forward = pd.read_csv(tmp_path / "s2.csv")
    assert forward["pd"].iloc[::-1].to_numpy()[2:] == pytest.approx(scores["pd"].to_numpy()[2:])


def test_explain_report_monitor_and_registry(model_dir: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["explain", "--model", str(model_dir), "--data", str(german()), "--row", "1"]
    )
    assert res.exit_code == 0 and "推高了风险评估" in res.stdout
    res = runner.invoke(
        app,
        [
            "explain",
            "--model",
            str(model_dir),
            "--data",
            str(german()),
            "--row",
            "1",
            "--lang",
            "en",
        ],
    )
    assert "raises the estimated risk" in res.stdout
    html = tmp_path / "r.html"
    assert (
        runner.invoke(app, ["report", "--model", str(model_dir), "--out", str(html)]).exit_code == 0
    )
    assert html.read_text(encoding="utf-8").startswith("<!doctype html>")
    res = runner.invoke(
        app, ["monitor", "--model", str(model_dir), "--data", str(german()), "--json"]
    )
    assert res.exit_code == 0 and json.loads(res.stdout)["status"] == "stable"
    reg = tmp_path / "reg"
    res = runner.invoke(app, ["promote", "--registry", str(reg), "--model", str(model_dir)])
    assert res.exit_code == 0 and "champion" in res.stdout
    listing = json.loads(runner.invoke(app, ["registry", "--registry", str(reg), "--json"]).stdout)
    assert listing[0]["labels"] == ["champion"]


def _bad_inputs(tmp_path: Path) -> dict[str, list[str]]:
    g = pd.read_csv(german()).head(100)
    (tmp_path / "empty.csv").write_text("")
    multi = g.copy()
    multi["creditability"] = ["good", "bad", "unknown", "good"] * 25
    multi.to_csv(tmp_path / "multi.csv", index=False)
    allnan = g.copy()
    allnan["blank"] = None
    allnan.to_csv(tmp_path / "allnan.csv", index=False)
    prohibited = g.copy()
    prohibited["religion"] = ["a", "b"] * 50
    prohibited.to_csv(tmp_path / "prohibited.csv", index=False)
    out = str(tmp_path / "never")
    return {
        "missing target": ["train", "--data", str(german()), "--target", "nope", "--out", out],
        "three classes": ["train", "--data", str(tmp_path / "multi.csv"), "--target", "creditability", "--out", out],
        "empty file": ["train", "--data", str(tmp_path / "empty.csv"), "--target", "y", "--out", out],
        "all-missing column": ["train", "--data", str(tmp_path / "allnan.csv"), "--target", "creditability", "--out", out],
        "prohibited feature": ["train", "--data", str(tmp_path / "prohibited.csv"), "--target", "creditability", "--out", out],
        "not a model": ["score", "--model", str(tmp_path), "--data", str(german()), "--out", out],
    }  # fmt: skip


def test_bad_input_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    """Through the real entry point (``python -m xindai.cli.main model …``), all cases at once."""
    cases = _bad_inputs(tmp_path)
    cmd = [sys.executable, "-m", "xindai.cli.main", "model"]
    procs = {
        case: subprocess.Popen(
            [*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for case, args in cases.items()
    }
    expected_field = {
        "missing target": "target",
        "three classes": "creditability",
        "empty file": "data",
        "all-missing column": "blank",
        "prohibited feature": "religion",
        "not a model": "model",
    }
    for case, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 2, (case, err)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (case, err)
        assert expected_field[case] in lines[0], (case, lines[0])
    assert not (tmp_path / "never").exists()


def test_real_subprocess_trains_scores_and_refuses_bad_input(tmp_path: Path) -> None:
    small = tmp_path / "hmeq_like.csv"
    df = pd.read_csv(german()).sample(400, random_state=0)
    df.to_csv(small, index=False)
    cmd = [sys.executable, "-m", "xindai.cli.model"]
    out = tmp_path / "m"
    done = subprocess.run(
        [*cmd, "train", "--data", str(small), "--target", "creditability", "--kind", "scorecard",
         "--folds", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "scorecard model" in done.stdout
    scored = subprocess.run(
        [*cmd, "score", "--model", str(out), "--data", str(small), "--out", str(tmp_path / "s.csv")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert len(pd.read_csv(tmp_path / "s.csv")) == 400
    bad = subprocess.run(
        [*cmd, "score", "--model", str(tmp_path), "--data", str(small), "--out", str(tmp_path / "x.csv")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.startswith("error: model:")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_out_of_time_split_on_a_text_date_column(tmp_path: Path) -> None:
    """``--date-column`` with dates written as text ("Mar-2019"): the latest 20% of rows by date are
    the test set, rows without a date stay in training, and the date is not a feature."""
    df = pd.read_csv(german())
    months = pd.date_range("2018-01-01", periods=len(df), freq="D").strftime("%b-%Y")
    df["application_month"] = list(months)
    df.loc[:9, "application_month"] = None  # no date: kept in training
    df = df.sample(frac=1.0, random_state=3).reset_index(drop=True)  # file order is not time order
    data = tmp_path / "dated.csv"
    df.to_csv(data, index=False)
    out = tmp_path / "oot"
    res = runner.invoke(
        app,
        ["train", "--data", str(data), "--target", "creditability", "--kind", "scorecard",
         "--date-column", "application_month", "--out", str(out), "--json"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["protocol"].startswith("out-of-time split on application_month")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_evaluated"] == 200  # the latest 20% of 1,000 rows
    spec = (out / "spec.yaml").read_text()
    assert "application_month" not in spec.split("features:", 1)[1]
    # the test rows are the 200 latest by date: every test date ≥ every training date
    data_ = load_training_data(data, target="creditability", exclude=["application_month"])
    ((train_idx, test_idx),) = splits_for(data_, TrainConfig(date_column="application_month"))
    when = numeric_values(df["application_month"])
    assert len(test_idx) == 200 and not np.isnan(when[test_idx]).any()
    assert np.nanmax(when[train_idx]) <= when[test_idx].min()
    assert np.isnan(when[train_idx]).sum() == 10
    bad = runner.invoke(
        app,
        ["train", "--data", str(data), "--target", "creditability", "--date-column", "purpose",
         "--out", str(tmp_path / "x")],
    )  # fmt: skip
    assert bad.exit_code == 2 and "no parseable dates" in bad.output
