"""Metrics against scikit-learn, and the invariants of PSI, deciles and the segment flag rule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score, roc_curve

from xindai.kernel import ValidationError
from xindai.scoring import metrics as m


@st.composite
def labelled_scores(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(4, 80))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if y.min() == y.max():
        y[0] = 1 - y[0]
    # few distinct values so that ties are exercised
    s = np.array(draw(st.lists(st.integers(0, 6), min_size=n, max_size=n)), dtype=float) / 6
    return y, s


@given(labelled_scores())
def test_auc_and_ks_match_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = data
    assert m.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    fpr, tpr, _ = roc_curve(y, s)
    assert m.ks(y, s) == pytest.approx(float(np.max(np.abs(tpr - fpr))), abs=1e-12)
    assert m.gini(y, s) == pytest.approx(2 * roc_auc_score(y, s) - 1, abs=1e-12)


@given(labelled_scores())
def test_brier_and_log_loss_match_sklearn(data: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = data
    p = np.clip(s, 0.01, 0.99)
    assert m.brier(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert m.log_loss(y, p) == pytest.approx(log_loss(y, p), abs=1e-12)


def test_auc_refuses_one_class() -> None:
    with pytest.raises(ValidationError):
        m.auc(np.zeros(5, dtype=np.int64), np.arange(5.0))


@given(st.lists(st.floats(-1e6, 1e6), min_size=20, max_size=200))
def test_psi_of_a_sample_against_itself_is_zero(values: list[float]) -> None:
    x = np.array(values)
    assert m.psi(x, x) == pytest.approx(0.0, abs=1e-12)


def test_psi_detects_a_shift_and_is_non_negative() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=5000)
    assert m.psi(a, rng.normal(size=5000)) < 0.02
    assert m.psi(a, rng.normal(loc=1.0, size=5000)) > m.PSI_ALARM
    assert m.psi_level(0.05) == "stable"
    assert m.psi_level(0.15) == "warn"
    assert m.psi_level(0.30) == "alarm"


def test_missing_values_have_their_own_psi_bin() -> None:
    a = np.arange(1000.0)
    b = a.copy()
    b[:500] = np.nan
    assert m.psi(a, b) > m.PSI_ALARM


def test_deciles_cover_every_row_riskiest_first() -> None:
    rng = np.random.default_rng(1)
    p = rng.random(1003)
    y = (rng.random(1003) < p).astype(np.int64)
    rows = m.deciles(y, p)
    assert sum(r["n"] for r in rows) == 1003
    assert sum(r["bads"] for r in rows) == y.sum()
    assert rows[-1]["cum_bad_capture"] == pytest.approx(1.0)
    assert rows[0]["bad_rate"] > rows[-1]["bad_rate"]


def test_bad_rate_at_approval_takes_the_lowest_risk() -> None:
    y = np.array([0, 0, 1, 0, 1, 1, 0, 1, 1, 1])
    p = np.arange(10.0)
    assert m.bad_rate_at_approval(y, p, 0.5) == pytest.approx(2 / 5)
    assert m.bad_rate_at_approval(y, p, 1.0) == pytest.approx(y.mean())
    with pytest.raises(ValidationError):
        m.bad_rate_at_approval(y, p, 0.0)


def test_segment_flags_only_material_and_significant_gaps() -> None:
    rng = np.random.default_rng(2)
    n = 4000
    seg = np.where(rng.random(n) < 0.2, "merchant", "salaried")
    p = np.full(n, 0.10)
    # merchants really default at 25% while the model says 10%: the friend-credit-score failure
    y = (rng.random(n) < np.where(seg == "merchant", 0.25, 0.10)).astype(np.int64)
    rows = {r["segment"]: r for r in m.segment_table(list(seg), y, p)}
    assert rows["merchant"]["flag"] == "under-predicted"
    assert rows["salaried"]["flag"] == ""
    small = m.segment_table(
        ["a"] * 10 + ["b"] * 10, np.array([1] * 10 + [0] * 10), np.full(20, 0.5)
    )
    assert all(r["flag"] == "" for r in small)  # too few rows to judge


def test_psi_bins_stay_finite_next_to_huge_values() -> None:
    values = np.array([-1e308, -1e308, 1e308, 1e308, 0.0, 1.0, 2.0, np.nan] * 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        edges = m.psi_bins(values)
    assert np.isfinite(edges).all() and np.all(np.diff(edges) > 0)
    assert m.bin_shares(values, edges).sum() == pytest.approx(1.0)
