"""The compiled path-attribution kernel (``xindai.scoring._trees``) equals its Python reference.

On real LightGBM models (German credit with categorical splits, a Taiwan subsample, merged boosters
with a constant tree in the middle) and on matrices full of edge cases (NaN, ±0, values in the
zero band, values exactly at and next to every threshold, negative, fractional, unseen and infinite
category codes), the kernel's ``explain`` and ``explain_row`` give the same raw scores and
attributions as ``Ensemble.py_explain`` and ``py_explain_row``, compared with ``==``; the raw scores
are LightGBM's own ``predict(raw_score=True)``, and attributions add up to raw − bias.
"""

from __future__ import annotations

import math
import pickle
from functools import cache

import lightgbm as lgb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from xindai.scoring import accel, load_spec, load_training_data
from xindai.scoring.frame import encode, learn_schema
from xindai.scoring.gbm import PARALLEL_MIN_ROWS, PREDICT_CHUNK, fit_gbm, merge
from xindai.scoring.paths import dataset_file
from xindai.scoring.trees import Ensemble

from .conftest import german_path

DISABLED = not accel.native_enabled()
FloatMatrix = np.ndarray


def test_the_kernel_is_built() -> None:
    """``pip install`` builds it; a silently missing kernel makes batch reasons ~15x slower."""
    if DISABLED:
        assert accel.trees is None
        pytest.skip("XINDAI_NATIVE=0: the Python path is under test")
    assert accel.trees is not None


def test_the_switch_disables_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XINDAI_NATIVE", "0")
    assert accel.load_trees() is None
    monkeypatch.setenv("XINDAI_NATIVE", " Off ")
    assert accel.load_trees() is None
    if not DISABLED:  # the same module object as the one loaded at import
        monkeypatch.setenv("XINDAI_NATIVE", "1")
        assert accel.load_trees() is accel.trees


needs_kernel = pytest.mark.skipif(accel.trees is None, reason="the kernel is not built or disabled")


@cache
def _german() -> tuple[FloatMatrix, np.ndarray, list[int]]:
    data = load_training_data(german_path(), spec=load_spec("german_credit"))
    schema = learn_schema(data.frame, data.spec)
    x = encode(data.frame, schema)
    x[np.random.default_rng(0).random(x.shape) < 0.1] = np.nan  # NaNs in training: NaN splits
    return x, data.y, schema.categorical_indices


@cache
def _taiwan() -> tuple[FloatMatrix, np.ndarray, list[int]]:
    path = dataset_file("taiwan_default/UCI_Credit_Card.csv", "taiwan_default.csv.gz")
    data = load_training_data(path, spec=load_spec("taiwan_default"))
    schema = learn_schema(data.frame, data.spec)
    x = encode(data.frame, schema)
    keep = np.random.default_rng(1).choice(x.shape[0], 4000, replace=False)
    return x[keep], data.y[keep], schema.categorical_indices


def _constant_booster(x: FloatMatrix, y: np.ndarray) -> lgb.Booster:
    """A one-tree booster whose only tree has one leaf (no split allowed)."""
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "min_data_in_leaf": 10**6}
    return lgb.train(params, lgb.Dataset(x, y, params={"verbose": -1}), num_boost_round=3)


@cache
def _models() -> dict[str, tuple[lgb.Booster, FloatMatrix, list[int]]]:
    gx, gy, gcats = _german()
    tx, ty, tcats = _taiwan()
    german = fit_gbm(gx, gy, gcats, profile="flexible", n_trees=60)
    gentle = fit_gbm(gx, gy, gcats, profile="regularised", n_trees=25)
    constant = _constant_booster(gx, gy)
    assert "num_leaves=1\n" in constant.model_to_string()
    return {
        "german": (german, gx, gcats),
        "taiwan": (fit_gbm(tx, ty, tcats, profile="regularised", n_trees=40), tx, tcats),
        # a blend of profiles with a constant tree between them: leaf values scaled, raw scores
        # summed in model order
        "merged": (merge([(gentle, 0.25), (constant, 0.1), (german, 0.65)]), gx, gcats),
    }


def _edge_rows(ens: Ensemble, x: FloatMatrix, categorical: list[int]) -> FloatMatrix:
    """Real rows with one cell replaced by an edge value, for every split's feature."""
    rng = np.random.default_rng(7)
    base = x[rng.choice(x.shape[0], 40, replace=False)]
    specials = [math.nan, 0.0, -0.0, 1e-36, -1e-36, 1e-300, math.inf, -math.inf]
    codes = [-1.0, -0.5, -1.5, 0.5, 1.99, 1000.0, 2.0**31, 2.0**40, -(2.0**40)]
    out = []
    for t in ens.trees:
        for f, thr, cat in zip(t.feature, t.threshold, t.categorical, strict=True):
            if cat:  # the threshold of a categorical split indexes its bitset: codes come below
                continue
            for v in (thr, np.nextafter(thr, np.inf), np.nextafter(thr, -np.inf)):
                row = base[len(out) % len(base)].copy()
                row[f] = v
                out.append(row)
    for f in range(x.shape[1]):
        for v in specials + (codes if f in categorical else []):
            row = base[(f + len(out)) % len(base)].copy()
            row[f] = v
            out.append(row)
    out.append(np.full(x.shape[1], np.nan))
    out.append(np.zeros(x.shape[1]))
    return np.vstack([base, *out])


def _assert_same(ens: Ensemble, x: FloatMatrix, rows: int | None = None) -> None:
    raw, contrib = ens.explain(x, threads=1)
    ref_raw, ref_contrib = ens.py_explain(x)
    np.testing.assert_array_equal(raw, ref_raw)
    np.testing.assert_array_equal(contrib, ref_contrib)
    for i in range(x.shape[0] if rows is None else min(rows, x.shape[0])):
        r, c = ens.py_explain_row(x[i].tolist())
        assert r == raw[i]
        assert c == contrib[i].tolist()
        assert ens.explain_row(x[i].tolist()) == (r, c)


@pytest.mark.parametrize("name", ["german", "taiwan", "merged"])
def test_kernel_equals_the_reference_on_real_models(name: str) -> None:
    booster, x, cats = _models()[name]
    ens = Ensemble(booster.model_to_string(), x.shape[1])
    assert ens.native == (accel.trees is not None)
    edge = _edge_rows(ens, x, cats)
    for m in (x[:600], edge):
        _assert_same(ens, m)
        raw, contrib = ens.explain(m)
        # LightGBM sums the trees in the same order: its raw scores, bit for bit
        np.testing.assert_array_equal(raw, booster.predict(m, raw_score=True, num_threads=1))
        np.testing.assert_allclose(ens.bias + contrib.sum(axis=1), raw, rtol=0, atol=1e-9)
        # the raw-only walk (batch scoring without reasons) gives the same numbers
        only = ens.raw(m, threads=1)
        assert only is None if not ens.native else np.array_equal(only, raw)
    if name == "merged":
        assert any(not t.feature for t in ens.trees)  # the constant tree is there


@pytest.mark.parametrize("name", ["german", "taiwan"])  # NaN in training or not: missing types
def test_categorical_code_edge_cases_follow_lightgbm(name: str) -> None:
    """-0.5 is category 0 (truncation); -1, ±inf and NaN (whatever the missing type) go right."""
    booster, x, cats = _models()[name]
    ens = Ensemble(booster.model_to_string(), x.shape[1])
    rows = []
    for f in cats:
        for v in (-0.5, -0.0, 0.0, -1.0, -0.999, math.inf, -math.inf, math.nan, 3.7):
            row = x[5].copy()
            row[f] = v
            rows.append(row)
    m = np.vstack(rows)
    np.testing.assert_array_equal(ens.explain(m)[0], booster.predict(m, raw_score=True))
    np.testing.assert_array_equal(ens.py_explain(m)[0], booster.predict(m, raw_score=True))
    # -0.5 and 0 are the same category, -0.999 too; 3.7 is category 3
    for j in range(0, len(rows), 9):
        assert ens.explain_row(rows[j].tolist()) == ens.explain_row(rows[j + 2].tolist())
        assert ens.explain_row(rows[j + 4].tolist()) == ens.explain_row(rows[j + 2].tolist())


@needs_kernel
def test_threads_and_memory_layout_do_not_change_the_values() -> None:
    booster, x, _ = _models()["taiwan"]
    ens = Ensemble(booster.model_to_string(), x.shape[1])
    big = np.tile(x, (3, 1))  # 12,000 rows: above PARALLEL_MIN_ROWS, several chunks
    assert big.shape[0] >= PARALLEL_MIN_ROWS and big.shape[0] > 2 * PREDICT_CHUNK
    raw, contrib = ens.explain(big, threads=1)
    for threads in (2, 3):
        raw_t, contrib_t = ens.explain(big, threads=threads)
        np.testing.assert_array_equal(raw_t, raw)
        np.testing.assert_array_equal(contrib_t, contrib)
    fortran = np.asfortranarray(big[:700])
    np.testing.assert_array_equal(ens.explain(fortran)[1], contrib[:700])
    np.testing.assert_array_equal(ens.explain(big[::3])[0], raw[::3])  # a strided view
    empty_raw, empty_contrib = ens.explain(big[:0])
    assert empty_raw.shape == (0,) and empty_contrib.shape == (0, x.shape[1])


def test_an_ensemble_survives_pickling() -> None:
    """A scorer shipped to a worker process keeps its (compiled) walker and its values."""
    booster, x, _ = _models()["merged"]
    ens = Ensemble(booster.model_to_string(), x.shape[1])
    copy = pickle.loads(pickle.dumps(ens))
    assert copy.native == ens.native
    for got, want in zip(copy.explain(x[:300]), ens.explain(x[:300]), strict=True):
        np.testing.assert_array_equal(got, want)


@needs_kernel
def test_a_matrix_missing_used_columns_is_refused() -> None:
    booster, x, _ = _models()["taiwan"]
    ens = Ensemble(booster.model_to_string(), x.shape[1])
    used = 1 + max(f for t in ens.trees for f in t.feature)
    with pytest.raises(IndexError):
        ens.explain(x[:10, : used - 1])
    with pytest.raises(IndexError):
        ens.explain_row(x[0, : used - 1].tolist())


# Random matrices over the German model's columns: each cell a real value of that column, a value at
# or next to one of the model's thresholds on it, or an edge value.
_EDGE = [math.nan, 0.0, -0.0, 1e-36, -1e-36, -0.5, -1.0, 7.0, 1e6, math.inf, -math.inf]


@cache
def _german_ensemble() -> tuple[Ensemble, list[list[float]]]:
    booster, x, _ = _models()["german"]
    ens = Ensemble(booster.model_to_string(), x.shape[1])
    pools: list[list[float]] = [
        list(np.unique(x[:, j][~np.isnan(x[:, j])])) for j in range(x.shape[1])
    ]
    for t in ens.trees:
        for f, thr, cat in zip(t.feature, t.threshold, t.categorical, strict=True):
            if not cat:
                pools[f] += [thr, float(np.nextafter(thr, np.inf)), float(np.nextafter(thr, -1e9))]
    return ens, pools


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_kernel_equals_the_reference_on_random_matrices(data: st.DataObject) -> None:
    ens, pools = _german_ensemble()
    n = data.draw(st.integers(1, 40))
    picks = data.draw(
        hnp.arrays(np.int64, (n, ens.n_features), elements=st.integers(0, 2**20)), label="picks"
    )
    kinds = data.draw(hnp.arrays(np.int64, (n, ens.n_features), elements=st.integers(0, 5)))
    x = np.empty((n, ens.n_features))
    for i in range(n):
        for j in range(ens.n_features):
            pool = _EDGE if kinds[i, j] == 0 else pools[j]
            x[i, j] = pool[picks[i, j] % len(pool)]
    _assert_same(ens, x)
