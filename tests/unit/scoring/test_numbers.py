"""Numbers written as text (units, percentages, currency, dates) — read the same in batch and singly,
inferred as numeric features, and scored exactly like the plain numbers they stand for."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.scoring import Scorer, TrainConfig, load_training_data, save_model, train
from xindai.scoring.frame import infer_spec, numeric_values
from xindai.scoring.numbers import number_from_text
from xindai.scoring.paths import dataset_file
from xindai.scoring.spec import FeatureKind


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.65%", 10.65),
        (" 36 months", 36.0),
        ("10+ years", 10.0),
        ("< 1 year", 1.0),
        ("$1,200.50", 1200.5),
        ("¥3,000", 3000.0),
        ("RMB 5,000", 5000.0),
        ("-.5", -0.5),
        ("1e3", 1000.0),
        ("2011-12-01", 15309.0),  # days since 1970-01-01
        ("Dec-2011", 15309.0),
        ("12/2011", 15309.0),
        ("01/02/2011", 14976.0),  # month first, as US exports write it
        ("2011-12-01 12:00:00", 15309.5),
    ],
)
def test_number_from_text_reads_units_currency_and_dates(text: str, expected: float) -> None:
    assert number_from_text(text) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    "text", ["A11", "1-3", "n/a", "", "inf", "-inf", "nan", "debt_consolidation", "1,23", "Dec-11",
             "12 of 36"],
)  # fmt: skip
def test_text_that_is_not_one_number_is_missing(text: str) -> None:
    assert math.isnan(number_from_text(text))


@given(st.lists(st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.none(),
    st.sampled_from(["10.65%", " 36 months", "n/a", "Dec-2011", "$1,000", "x", "2020-02-29"]),
    st.text(max_size=8),
), max_size=40))  # fmt: skip
def test_batch_and_single_reading_agree(values: list[object]) -> None:
    batch = numeric_values(pd.Series(values, dtype=object))
    for got, v in zip(batch, values, strict=True):
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            assert math.isnan(got)
            continue
        single = float(v) if isinstance(v, int | float) else number_from_text(v)  # type: ignore[arg-type]
        assert (math.isnan(got) and math.isnan(single)) or got == single


def test_inference_makes_text_numbers_numeric_and_keeps_codes_categorical() -> None:
    n = 60
    df = pd.DataFrame(
        {
            "int_rate": [f"{7 + i % 13}.5%" for i in range(n)],
            "term": [" 36 months", " 60 months"] * (n // 2),
            "emp_length": ["< 1 year", "10+ years", "3 years"] * (n // 3),
            "issue_d": ["Dec-2011", "Jan-2012", "Feb-2012"] * (n // 3),
            "grade": ["A", "B", "C"] * (n // 3),
            "sub_grade": ["A1", "B2", "C3"] * (n // 3),
            "y": [0, 1] * (n // 2),
        }
    )
    spec = infer_spec(df, "y")
    kinds = {f.name: f.kind for f in spec.features}
    assert kinds == {
        "int_rate": FeatureKind.NUMERIC, "term": FeatureKind.NUMERIC,
        "emp_length": FeatureKind.NUMERIC, "issue_d": FeatureKind.NUMERIC,
        "grade": FeatureKind.CATEGORICAL, "sub_grade": FeatureKind.CATEGORICAL,
    }  # fmt: skip


@pytest.mark.slow
def test_a_file_with_percent_and_currency_text_trains_like_the_plain_numbers(
    tmp_path: Path,
) -> None:
    """Lending Club with its rate written as "11.89%" and its instalment as "$829.10": the model
    sees the same numbers, so the out-of-fold AUC is the plain file's, and a single application
    written as text scores exactly as its batch row."""
    plain = pd.read_csv(dataset_file("lending_club/loan_data.csv", None)).head(3000)
    texty = plain.copy()
    texty["int.rate"] = [f"{100 * v:.2f}%" for v in plain["int.rate"]]
    texty["installment"] = [f"${v:,.2f}" for v in plain["installment"]]
    plain["int.rate"] = (100 * plain["int.rate"]).round(2)
    plain["installment"] = plain["installment"].round(2)
    (tmp_path / "plain.csv").write_text(plain.to_csv(index=False))
    (tmp_path / "texty.csv").write_text(texty.to_csv(index=False))
    cfg = TrainConfig(kind="scorecard", folds=3)
    results = {
        name: train(load_training_data(tmp_path / f"{name}.csv", target="not.fully.paid"), cfg)
        for name in ("plain", "texty")
    }
    assert results["texty"].metrics["auc"] == results["plain"].metrics["auc"]
    assert results["texty"].model.schema.kinds == results["plain"].model.schema.kinds
    scorer = Scorer.load(save_model(results["texty"], tmp_path / "model"))
    rows = texty.drop(columns=["not.fully.paid"]).head(50)
    batch = scorer.score_frame(rows, reasons=False)
    for i, record in enumerate(rows.to_dict("records")):
        assert scorer.score(record).pd == pytest.approx(float(batch["pd"].iloc[i]), abs=1e-12)
    assert np.isfinite(batch["pd"]).all()
