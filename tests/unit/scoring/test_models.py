"""Training, artefacts, the decision path, explanations, registry, monitoring and reports, on the
real German credit data (small enough to run in full)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.kernel import FixedClock, ValidationError
from xindai.scoring import (
    Registry,
    Scorer,
    TrainConfig,
    TrainResult,
    compare_groups,
    load_model,
    load_spec,
    load_training_data,
    monitor,
    render_report,
    train,
)
from xindai.scoring.calibration import Calibrator, fit_isotonic, fit_platt
from xindai.scoring.frame import encode
from xindai.scoring.gbm import (
    PARALLEL_MIN_ROWS,
    PREDICT_CHUNK,
    fit_gbm,
    merge,
    raw_logit,
    relative_early_stopping,
)
from xindai.scoring.linear import fit_linear
from xindai.scoring.model import top_adverse
from xindai.scoring.scorer import reason_texts
from xindai.scoring.training import _candidates
from xindai.scoring.trees import Ensemble

from .conftest import german_path


def test_candidates_follow_table_size() -> None:
    """``gentle`` only under 20,000 rows; ``deep`` only from 20,000 rows up to 500,000 cells."""
    cfg = TrainConfig()
    assert "gbm:deep" in _candidates(cfg, (32_581, 11)) and "gbm:gentle" not in _candidates(
        cfg, (32_581, 11)
    )
    assert "gbm:deep" not in _candidates(cfg, (30_000, 39))
    assert "gbm:gentle" in _candidates(cfg, (1_000, 20))
    assert "gbm:deep" not in _candidates(cfg, (1_000, 20))


def test_training_reports_out_of_fold_metrics(german_result: TrainResult) -> None:
    mt = german_result.metrics
    assert 0.74 < mt["auc"] < 0.85
    assert set(mt["candidate_auc"]) == {
        "scorecard", "gbm:regularised", "gbm:flexible", "gbm:gentle", "linear"
    }  # fmt: skip
    assert abs(sum(mt["blend_weights"].values()) - 1) < 1e-9
    assert abs(sum(mt["candidate_weights"].values()) - 1) < 1e-9
    assert mt["auc"] >= max(mt["candidate_auc"].values()) - 1e-12  # blend never worse than parts
    assert mt["calibration"]["chosen"] in {"platt", "isotonic"}
    assert [r["approval_rate"] for r in mt["approval"]] == [0.5, 0.6, 0.7, 0.8, 0.9]
    rates = [r["bad_rate"] for r in mt["approval"]]
    assert rates == sorted(rates)  # approving more lets in more bads
    assert "personal_status_and_sex" in mt["segments"]
    prov = german_result.provenance
    assert prov["trained_at"].startswith("2026-01-02T03:04:05")
    assert len(prov["data_sha256"]) == 64
    assert prov["libraries"]["lightgbm"]


def test_artefact_has_no_pickle_and_reloads_identically(
    german_result: TrainResult, german_dir: Path
) -> None:
    names = {p.name for p in german_dir.iterdir()}
    assert {"model.json", "spec.yaml", "metrics.json", "reference.json"} <= names
    for p in german_dir.iterdir():
        assert not p.read_bytes().startswith(b"\x80"), f"{p.name} looks like a pickle"
    loaded = load_model(german_dir)
    df = pd.read_csv(german_path())
    x = encode(df, loaded.model.schema)
    np.testing.assert_allclose(loaded.model.pd(x), german_result.model.pd(x), rtol=0, atol=1e-12)


def test_single_application_scoring_matches_batch(german_dir: Path) -> None:
    scorer = Scorer.load(german_dir)
    df = pd.read_csv(german_path()).drop(columns=["creditability"])
    batch = scorer.score_frame(df, consent=True)
    for i, record in enumerate(df.head(150).to_dict("records")):
        d = scorer.score(record, consent_sensitive=True)
        assert d.pd == pytest.approx(batch["pd"].iloc[i], abs=1e-9)
        assert d.score == pytest.approx(batch["score"].iloc[i], abs=1e-6)
        assert ";".join(r.feature for r in d.reasons) == batch["reasons"].iloc[i]
        assert all(r.contribution > 0 and r.text_zh and r.text_en for r in d.reasons)
    # higher score ⇔ lower PD
    order = np.argsort(batch["score"].to_numpy())
    assert np.all(np.diff(batch["pd"].to_numpy()[order]) <= 1e-12)


def test_sensitive_data_is_withheld_without_consent(german_dir: Path) -> None:
    scorer = Scorer.load(german_dir)
    record = pd.read_csv(german_path()).iloc[3].to_dict()
    without = scorer.score(record)
    assert without.withheld == ["savings_account_and_bonds"]
    blanked = {**record, "savings_account_and_bonds": None}
    assert scorer.score(blanked, consent_sensitive=True).pd == pytest.approx(without.pd)
    assert scorer.score(record, consent_sensitive=True).withheld == []


def test_unseen_columns_categories_and_missing_values_score(german_dir: Path) -> None:
    scorer = Scorer.load(german_dir)
    d = scorer.score({"purpose": "space travel", "duration_in_month": "n/a", "shoe_size": 44})
    assert 0 < d.pd < 1 and np.isfinite(d.score)


def test_scorecard_score_is_exactly_the_points_sum(tmp_path: Path) -> None:
    data = load_training_data(german_path(), spec=load_spec("german_credit"))
    result = train(data, TrainConfig(kind="scorecard", folds=3))
    card = result.model.scorecard
    assert card is not None and result.model.kind == "scorecard"
    x = encode(data.frame, result.model.schema)
    points = card.points_matrix(x)
    np.testing.assert_allclose(
        result.model.score(x), card.base_points + points.sum(axis=1), atol=1e-9
    )
    for t in card.tables:  # WOE is high for good borrowers, so points rise with WOE
        order = np.argsort(t.woe)
        assert np.all(np.diff(np.asarray(t.points)[order]) >= -1e-9)


def test_tree_evaluator_is_exact_with_categoricals_and_missing_values() -> None:
    data = load_training_data(german_path(), spec=load_spec("german_credit"))
    from xindai.scoring.frame import learn_schema

    schema = learn_schema(data.frame, data.spec)
    x = encode(data.frame, schema)
    rng = np.random.default_rng(0)
    x[rng.random(x.shape) < 0.1] = np.nan
    booster = fit_gbm(x, data.y, schema.categorical_indices, profile="flexible", n_trees=60)
    ens = Ensemble(booster.model_to_string(), x.shape[1])
    raw, contrib = ens.explain(x)
    np.testing.assert_allclose(raw, raw_logit(booster, x), atol=1e-9)
    np.testing.assert_allclose(contrib.sum(axis=1) + ens.bias, raw, atol=1e-9)
    for row in x[:50]:
        r, _c = ens.explain_row(row.tolist())
        assert r == pytest.approx(float(raw_logit(booster, row.reshape(1, -1))[0]), abs=1e-9)
    assert isinstance(booster, lgb.Booster)


@given(st.lists(st.floats(-8, 8), min_size=30, max_size=200), st.integers(0, 2**16))
def test_calibrators_are_monotone_and_round_trip(logits: list[float], seed: int) -> None:
    z = np.array(logits)
    rng = np.random.default_rng(seed)
    y = (rng.random(z.shape[0]) < 1 / (1 + np.exp(-z))).astype(np.int64)
    if y.min() == y.max():
        y[0] = 1 - y[0]
    grid = np.linspace(-10, 10, 101)
    for cal in (fit_platt(z, y), fit_isotonic(z, y)):
        p = cal(grid)
        assert np.all(np.diff(p) >= -1e-12) and p.min() > 0 and p.max() < 1
        np.testing.assert_allclose(Calibrator.from_dict(cal.to_dict())(grid), p)


def test_prohibited_feature_is_refused_at_training(tmp_path: Path) -> None:
    df = pd.read_csv(german_path()).head(200)
    df["medical_history"] = ["none", "diabetes"] * 100
    path = tmp_path / "g.csv"
    df.to_csv(path, index=False)
    with pytest.raises(ValidationError, match="prohibited"):
        load_training_data(path, target="creditability")


def test_registry_labels_champion_and_challenger(german_dir: Path, tmp_path: Path) -> None:
    reg = Registry(tmp_path / "reg", clock=FixedClock())
    first = reg.promote(german_dir, "champion")
    assert reg.register(german_dir) == first  # idempotent
    assert reg.path_of("champion") == german_dir.resolve()
    reg.promote(german_dir, "challenger")  # a model holds one label at a time
    labels = reg.listing()[0]["labels"]
    assert labels == ["challenger"]
    with pytest.raises(ValidationError, match="not a xindai model"):
        reg.promote(tmp_path, "champion")
    with pytest.raises(ValidationError, match="label"):
        reg.promote(german_dir, "king")


def test_monitoring_is_stable_on_training_data_and_alarms_on_drift(german_dir: Path) -> None:
    loaded = load_model(german_dir)
    df = pd.read_csv(german_path())
    same = monitor(loaded, df)
    assert same["status"] == "stable" and same["score"]["psi"] < 1e-9
    drifted = df.copy()
    drifted["duration_in_month"] = drifted["duration_in_month"] * 3
    result = monitor(loaded, drifted)
    assert "duration_in_month" in result["alarms"]
    assert result["status"] == "alarm"


def test_report_is_self_contained_html(german_dir: Path) -> None:
    page = render_report(load_model(german_dir))
    for section in (
        "ROC",
        "KS",
        "Calibration",
        "Lift",
        "PSI",
        "Segments",
        "Points table",
        "importance",
    ):
        assert section in page, section
    assert "<script" not in page and "http://" not in page.replace("http://www.w3", "")
    assert page.count("<svg") >= 5


def test_compare_groups_reports_paired_bootstrap_intervals() -> None:
    data = load_training_data(german_path(), spec=load_spec("german_credit"))
    result = compare_groups(
        data, [["loan"], ["loan", "behaviour"]], TrainConfig(kind="scorecard", folds=3), n_boot=60
    )
    assert [s["groups"] for s in result.sets] == ["loan", "loan,behaviour"]
    d = result.differences[0]
    lo, hi = d["bad_rate_diff_pp_ci95"]
    assert lo <= d["bad_rate_diff_pp"] <= hi or abs(d["bad_rate_diff_pp"] - lo) < 2
    assert result.sets[1]["auc"] > result.sets[0]["auc"]  # checking account adds real signal
    assert result.to_dict()["published_claim_pp"] == -1.8


def _german_matrix(result: TrainResult) -> tuple[np.ndarray, np.ndarray]:
    data = load_training_data(german_path(), spec=load_spec("german_credit"))
    return encode(data.frame, result.model.schema), data.y


def test_merged_boosters_score_the_weighted_sum_exactly(german_result: TrainResult) -> None:
    """Several GBM profiles in one blend become one LightGBM text model (leaf values scaled)."""
    schema = german_result.model.schema
    x, y = _german_matrix(german_result)
    cats = schema.categorical_indices
    a = fit_gbm(x, y, cats, profile="regularised", n_trees=25)
    b = fit_gbm(x, y, cats, profile="flexible", n_trees=40)
    merged = merge([(a, 0.25), (b, 0.75)])
    assert merged.num_trees() == 65
    want = 0.25 * raw_logit(a, x) + 0.75 * raw_logit(b, x)
    np.testing.assert_allclose(raw_logit(merged, x), want, rtol=0, atol=1e-12)
    # it survives the text round trip, and the tree walker agrees (path attributions add up)
    reloaded = lgb.Booster(model_str=merged.model_to_string())
    np.testing.assert_allclose(raw_logit(reloaded, x), want, rtol=0, atol=1e-12)
    ens = Ensemble(merged.model_to_string(), len(schema.names))
    raw, contrib = ens.explain(x)
    np.testing.assert_allclose(raw, want, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ens.bias + contrib.sum(axis=1), raw, rtol=0, atol=1e-10)
    assert merge([(a, 1.0)]) is a


def test_piecewise_linear_terms_scalar_equals_vector(german_result: TrainResult) -> None:
    schema = german_result.model.schema
    x, y = _german_matrix(german_result)
    lin = fit_linear(x, y, schema)
    assert any(t.knots for t in lin.terms)  # numeric features get hinge knots
    logit = lin.logit(x)
    for i in range(0, x.shape[0], 97):
        total = lin.intercept + sum(t.value(x[i, t.index]) for t in lin.terms)
        assert total == pytest.approx(logit[i], abs=1e-9)
    blank = np.full((1, x.shape[1]), np.nan)  # missing everywhere: imputed terms + indicators
    total = lin.intercept + sum(t.value(np.nan) for t in lin.terms)
    assert lin.logit(blank)[0] == pytest.approx(total, abs=1e-9)


def test_relative_early_stopping(german_result: TrainResult) -> None:
    """With equal bounds it is LightGBM's own early stopping; otherwise the patience is half the
    best iteration, clamped to the bounds."""
    x, y = _german_matrix(german_result)
    cats = german_result.model.schema.categorical_indices
    params = {"objective": "binary", "metric": "auc", "verbose": -1, "num_threads": 1,
              "seed": 7, "learning_rate": 0.1, "num_leaves": 15, "min_data_in_leaf": 5}  # fmt: skip

    def probe(callback: Callable[..., None]) -> tuple[int, int]:
        train_set = lgb.Dataset(x[:700], y[:700], categorical_feature=cats, params={"verbose": -1})
        valid = lgb.Dataset(x[700:], y[700:], reference=train_set, categorical_feature=cats)
        history: dict[str, dict[str, list[float]]] = {}
        booster = lgb.train(params, train_set, num_boost_round=2000, valid_sets=[valid],
                            callbacks=[callback, lgb.record_evaluation(history)])  # fmt: skip
        return booster.best_iteration, len(history["valid_0"]["auc"])

    assert probe(relative_early_stopping((30, 30))) == probe(lgb.early_stopping(30, verbose=False))
    best, rounds = probe(relative_early_stopping((5, 400)))
    assert rounds - best == min(400, max(5, best // 2))
    # the round limit ends training with the best iteration kept
    train_set = lgb.Dataset(x[:700], y[:700], categorical_feature=cats, params={"verbose": -1})
    valid = lgb.Dataset(x[700:], y[700:], reference=train_set, categorical_feature=cats)
    short = lgb.train(params, train_set, num_boost_round=3, valid_sets=[valid],
                      callbacks=[relative_early_stopping()])  # fmt: skip
    assert 1 <= short.best_iteration <= 3


def test_batch_scoring_on_threads_is_identical(
    german_dir: Path, german_result: TrainResult
) -> None:
    x, y = _german_matrix(german_result)
    booster = fit_gbm(x, y, german_result.model.schema.categorical_indices, n_trees=30)
    big = np.tile(x, (11, 1))  # 11,000 rows: above PARALLEL_MIN_ROWS, several chunks
    assert big.shape[0] >= PARALLEL_MIN_ROWS and big.shape[0] > 2 * PREDICT_CHUNK
    np.testing.assert_array_equal(raw_logit(booster, big, threads=3), raw_logit(booster, big))
    scorer = Scorer.load(german_dir)
    df = pd.concat([pd.read_csv(german_path())] * 9, ignore_index=True)
    one = scorer.score_frame(df, consent=True, threads=1)
    pd.testing.assert_frame_equal(scorer.score_frame(df, consent=True, threads=2), one)
    pd.testing.assert_frame_equal(scorer.score_frame(df, consent=True), one)


@given(
    st.lists(
        st.lists(st.sampled_from([-1.0, -0.0, 0.0, 1e-10, 2e-9, 0.5, 0.5, 1.0]), min_size=4,
                 max_size=4),
        min_size=1, max_size=30,
    ),
    st.integers(1, 5),
)  # fmt: skip
def test_top_adverse_is_the_stable_sort_prefix(rows: list[list[float]], top: int) -> None:
    """The vectorised top-k equals the single-application rule: a stable sort by contribution,
    largest first (ties to the lower index), keeping only contributions > 1e-9."""
    contrib = np.asarray(rows)
    idx, count = top_adverse(contrib, top)
    for i, row in enumerate(rows):
        order = sorted(range(len(row)), key=lambda j: -row[j])[:top]
        assert idx[i].tolist() == order
        assert idx[i, : count[i]].tolist() == [j for j in order if row[j] > 1e-9]


def test_batch_reasons_with_threads_equal_single_reasons(german_dir: Path) -> None:
    scorer = Scorer.load(german_dir)
    df = pd.read_csv(german_path()).drop(columns=["creditability"])
    big = pd.concat([df] * 9, ignore_index=True)  # 9,000 rows: the chunked, threaded path
    batch = scorer.score_frame(big, consent=True, threads=2)
    pd.testing.assert_frame_equal(batch, scorer.score_frame(big, consent=True, threads=1))
    for i in range(0, len(big), 997):
        d = scorer.score(big.iloc[i].to_dict(), consent_sensitive=True)
        assert ";".join(r.feature for r in d.reasons) == batch["reasons"].iloc[i]
        assert d.pd == pytest.approx(batch["pd"].iloc[i], abs=1e-12)


@pytest.mark.parametrize(("k", "top"), [(5, 3), (39, 3), (100, 10)])  # (100, 10): no key fits
def test_reason_texts_join_the_top_adverse_names(k: int, top: int) -> None:
    rng = np.random.default_rng(k)
    adverse = np.round(rng.normal(size=(500, k)), 1)  # rounding makes ties and zeros
    adverse[:7] = 0.0  # rows without any adverse feature
    names = [f"f{j}" for j in range(k)]
    got = reason_texts(names, adverse, top)
    for i, row in enumerate(adverse.tolist()):
        order = sorted(range(k), key=lambda j: -row[j])[:top]
        assert got[i] == ";".join(names[j] for j in order if row[j] > 1e-9)
    assert got[0] == ""
