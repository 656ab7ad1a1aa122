"""Training: validate the data, cross-validate the candidate models, choose, calibrate, refit.

Protocol (the one behind the reference AUC table): stratified 5-fold CV with seed 42, or an
out-of-time split (latest 20% of rows by the date column) when a date column is given. Candidates are
the WOE scorecard, LightGBM (the ``regularised`` and ``flexible`` profiles, plus ``gentle`` on tables
under 20,000 rows, ``deep`` on tables of 20,000 rows or more and at most 500,000 cells) and, for ``auto``, a penalised piecewise-linear logistic regression. ``gbm`` and
``scorecard`` keep the best candidate of their kind; ``auto`` blends all candidates with weights on
a 0.1 grid of the simplex chosen by the out-of-fold AUC of the blended log-odds (GBM profiles that
share the weight are merged into one LightGBM model). The calibrator is chosen and fitted on
out-of-fold log-odds; reported Brier/log loss use cross-fitted calibrated values, so no reported
figure is computed in-sample. Finally each kept component is refitted on all rows.

Invariant: everything reported in ``metrics`` comes from rows the model being evaluated did not
train on (the blend weights and the GBM profile are hyper-parameters chosen on the same
out-of-fold predictions — a small, documented optimism).
"""

from __future__ import annotations

import importlib.metadata as md
import itertools
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from xindai.kernel import Clock, SystemClock, ValidationError
from xindai.scoring import gbm as gbm_mod
from xindai.scoring import metrics as m
from xindai.scoring.builders import build
from xindai.scoring.calibration import (
    calibration_folds,
    choose_calibrator,
    fit_isotonic,
    fit_platt,
)
from xindai.scoring.frame import (
    FloatArray,
    IntArray,
    Schema,
    add_derived,
    binary_target,
    category_text,
    check_target_column,
    encode,
    fingerprint,
    infer_spec,
    learn_schema,
    minority_count,
    numeric_values,
    read_table,
    validate_training_frame,
)
from xindai.scoring.linear import fit_linear
from xindai.scoring.model import CreditModel
from xindai.scoring.scale import Scale
from xindai.scoring.scorecard import fit_scorecard
from xindai.scoring.spec import DatasetSpec, FeatureKind

KINDS = ("auto", "gbm", "scorecard")
BLEND_STEPS = 10  # blend weights on a 0.1 grid
Progress = Callable[[str], None]


@dataclass(frozen=True)
class TrainConfig:
    kind: str = "auto"
    folds: int = 5
    seed: int = 42
    n_jobs: int = 1  # worker processes for the cross-validation fits (LightGBM: one thread each)
    date_column: str | None = None
    oot_fraction: float = 0.2
    monotone: bool = False
    gbm_profiles: tuple[str, ...] = ("regularised", "flexible", "gentle", "deep")
    scale: Scale = field(default_factory=Scale)
    segment_columns: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValidationError("kind", f"must be one of {', '.join(KINDS)}")
        if self.folds < 2:
            raise ValidationError("folds", "need at least 2")
        if self.n_jobs < 1:
            raise ValidationError("n_jobs", "must be at least 1")
        if not 0.05 <= self.oot_fraction <= 0.5:
            raise ValidationError("oot_fraction", "must be between 0.05 and 0.5")
        unknown = [p for p in self.gbm_profiles if p not in gbm_mod.PROFILES]
        if unknown or not self.gbm_profiles:
            raise ValidationError("gbm_profiles", f"unknown {unknown}")


@dataclass(frozen=True)
class TrainingData:
    """A validated training table: the frame (with builder/derived columns), spec, target, files."""

    frame: pd.DataFrame
    spec: DatasetSpec
    y: IntArray
    files: tuple[Path, ...]

    def restrict(self, groups: Sequence[str]) -> TrainingData:
        return replace(self, spec=self.spec.restrict_to_groups(groups))


def prepare_frame(df: pd.DataFrame, spec: DatasetSpec, base_dir: Path) -> pd.DataFrame:
    """Apply the spec's builder (joins) and derived features to a raw table."""
    if spec.builder:
        df = build(spec.builder, df, base_dir, spec.tables)
    return add_derived(df, spec)


def load_training_data(
    data: str | Path,
    *,
    target: str | None = None,
    bad_value: str | None = None,
    spec: DatasetSpec | None = None,
    exclude: Sequence[str] = (),
) -> TrainingData:
    """Read, join, derive, and validate; without a spec one is inferred from the columns (minus
    ``exclude`` — e.g. the date column of an out-of-time split, which orders the rows in time and
    is not a property of the applicant)."""
    path = Path(data)
    raw = read_table(path)
    if spec is None:
        if not target:
            raise ValidationError("target", "is required when no spec is given")
        spec = infer_spec(raw, target, bad_value, name=path.stem.split(".")[0], exclude=exclude)
    else:
        spec = replace(
            spec,
            target=target or spec.target,
            bad_value=bad_value if bad_value is not None else spec.bad_value,
        )
    check_target_column(raw, spec.target)
    frame = prepare_frame(raw, spec, path.parent)
    validate_training_frame(frame, spec)
    y, bad, dropped = binary_target(frame[spec.target], spec.bad_value)
    spec = replace(spec, bad_value=bad)
    if dropped:
        keep = y >= 0
        frame = frame.loc[keep].reset_index(drop=True)
        y = y[keep]
    if y.sum() < 5 or (y.shape[0] - y.sum()) < 5:
        raise ValidationError(spec.target, "need at least 5 bad and 5 good rows")
    files = [path] + [path.parent / t for t in spec.tables.values()]
    return TrainingData(frame=frame, spec=spec, y=y, files=tuple(files))


def splits_for(data: TrainingData, cfg: TrainConfig) -> list[tuple[IntArray, IntArray]]:
    """Stratified k-fold (seed 42 by default), or one out-of-time split on the date column."""
    y = data.y
    date_col = cfg.date_column
    if date_col:
        if date_col not in data.frame.columns:
            raise ValidationError("date_column", f"{date_col!r} not in data")
        # dates as ``number_from_text`` reads them (days since 1970; plain numbers such as
        # 20111201 or a month index keep their order); a row without a date cannot be out of time,
        # so it stays in the training part
        when = numeric_values(data.frame[date_col])
        if np.isnan(when).all():
            raise ValidationError("date_column", f"{date_col!r} holds no parseable dates")
        order = np.argsort(np.where(np.isnan(when), -np.inf, when), kind="stable")
        cut = round(len(order) * (1 - cfg.oot_fraction))
        train, test = np.sort(order[:cut]), np.sort(order[cut:])
        if len(set(y[train].tolist())) < 2:
            raise ValidationError("date_column", "the out-of-time split leaves a class empty")
        rare = minority_count(y[test])
        if rare < 2:
            # the calibration is chosen and cross-fitted on the test part: it needs two of each
            raise ValidationError(
                "date_column",
                f"the out-of-time test part (latest {cfg.oot_fraction:.0%}, {len(test)} rows) holds "
                f"{rare} row(s) of one class; need at least 2",
            )
        return [(train.astype(np.int64), test.astype(np.int64))]
    n_min = minority_count(y)
    folds = min(cfg.folds, n_min)
    if folds < 2:
        raise ValidationError("target", "too few rows of one class for cross-validation")
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=cfg.seed)
    return [(tr.astype(np.int64), te.astype(np.int64)) for tr, te in skf.split(np.zeros(len(y)), y)]


def _candidates(cfg: TrainConfig, shape: tuple[int, int]) -> list[str]:
    n_rows, n_cols = shape
    out: list[str] = []
    if cfg.kind in ("auto", "scorecard"):
        out.append("scorecard")
    if cfg.kind in ("auto", "gbm"):
        small = n_rows < gbm_mod.INNER_CV_MAX_ROWS
        big_ok = not small and n_rows * n_cols <= gbm_mod.DEEP_MAX_CELLS
        profiles = [p for p in cfg.gbm_profiles
                    if (small or p not in gbm_mod.SMALL_DATA_PROFILES)
                    and (big_ok or p not in gbm_mod.BIG_PROFILES)]  # fmt: skip
        out.extend(f"gbm:{p}" for p in profiles or cfg.gbm_profiles)
    if cfg.kind == "auto":
        out.append("linear")
    return out


def _monotone(spec: DatasetSpec, schema: Schema, cfg: TrainConfig) -> list[int] | None:
    if not cfg.monotone:
        return None
    signs = {f.name: f.monotone for f in spec.features}
    return [signs.get(n, 0) if k is FeatureKind.NUMERIC else 0
            for n, k in zip(schema.names, schema.kinds, strict=True)]  # fmt: skip


def _fit_predict(
    name: str,
    x_tr: FloatArray,
    y_tr: IntArray,
    x_eval: Sequence[FloatArray],
    schema: Schema,
    spec: DatasetSpec,
    cfg: TrainConfig,
) -> tuple[list[FloatArray], int]:
    """Fit one candidate and predict log-odds on each of ``x_eval``; also the number of trees
    (0 for the scorecard and the linear model)."""
    if name == "scorecard":
        sc = fit_scorecard(
            x_tr, y_tr, schema, monotone={f.name: f.monotone for f in spec.features},
            scale=cfg.scale,
        )  # fmt: skip
        return [sc.logit(x) for x in x_eval], 0
    if name == "linear":
        lin = fit_linear(x_tr, y_tr, schema)
        return [lin.logit(x) for x in x_eval], 0
    profile = name.split(":", 1)[1]
    booster = gbm_mod.fit_gbm(
        x_tr, y_tr, schema.categorical_indices, profile=profile, seed=cfg.seed,
        monotone=_monotone(spec, schema, cfg),
    )  # fmt: skip
    return [gbm_mod.raw_logit(booster, x) for x in x_eval], int(booster.num_trees())


@dataclass
class CrossValidation:
    """Out-of-fold log-odds per candidate (NaN where a row was never in a test fold)."""

    splits: list[tuple[IntArray, IntArray]]
    oof: dict[str, FloatArray]
    train_logits: dict[str, list[FloatArray]]
    seconds: dict[str, float]
    #: trees of each GBM candidate's fold model, per fold (empty for the other candidates)
    trees: dict[str, list[int]] = field(default_factory=dict)

    @property
    def covered(self) -> IntArray:
        return np.sort(np.concatenate([te for _, te in self.splits]))


def _timed_fit(
    c: str, tr: IntArray, te: IntArray, x: FloatArray, y: IntArray, schema: Schema,
    spec: DatasetSpec, cfg: TrainConfig,
) -> tuple[FloatArray, FloatArray, float, int]:  # fmt: skip
    t0 = time.perf_counter()
    (on_train, on_test), trees = _fit_predict(c, x[tr], y[tr], [x[tr], x[te]], schema, spec, cfg)
    return on_train, on_test, time.perf_counter() - t0, trees


def cross_validate(
    data: TrainingData,
    schema: Schema,
    x: FloatArray,
    cfg: TrainConfig,
    candidates: Sequence[str],
    progress: Progress | None = None,
) -> CrossValidation:
    """Fit every candidate on every fold. With ``cfg.n_jobs`` > 1 the (fold, candidate) fits run in
    that many worker processes; the results are the same (every fit is seeded and single-threaded)
    up to floating-point rounding in the linear algebra."""
    splits = splits_for(data, cfg)
    n = x.shape[0]
    oof = {c: np.full(n, np.nan) for c in candidates}
    train_logits: dict[str, list[FloatArray]] = {c: [] for c in candidates}
    seconds = dict.fromkeys(candidates, 0.0)
    tasks = [(i, c, tr, te) for i, (tr, te) in enumerate(splits, start=1) for c in candidates]
    if cfg.n_jobs > 1:
        from joblib import Parallel, delayed  # only needed for parallel training

        if progress:
            progress(f"{len(tasks)} fits ({len(splits)} folds) on {cfg.n_jobs} worker processes")
        results = Parallel(n_jobs=cfg.n_jobs)(
            delayed(_timed_fit)(c, tr, te, x, data.y, schema, data.spec, cfg)
            for _, c, tr, te in tasks
        )
    else:
        results = []
        for i, c, tr, te in tasks:
            if progress:
                progress(f"fold {i}/{len(splits)}: {c}")
            results.append(_timed_fit(c, tr, te, x, data.y, schema, data.spec, cfg))
    trees: dict[str, list[int]] = {c: [] for c in candidates if c.startswith("gbm:")}
    for (_, c, _, te), (on_train, on_test, secs, n_trees) in zip(tasks, results, strict=True):
        seconds[c] += secs
        oof[c][te] = on_test
        train_logits[c].append(on_train)
        if c in trees:
            trees[c].append(n_trees)
    return CrossValidation(splits, oof, train_logits, seconds, trees)


@dataclass(frozen=True)
class Choice:
    weights: dict[str, float]  # candidate ("scorecard" | "gbm:<profile>" | "linear") → weight
    candidate_auc: dict[str, float]
    blend_auc: float

    @property
    def gbm_weights(self) -> dict[str, float]:
        """Profile → weight of the GBM members (their sum is the model's ``gbm`` weight)."""
        return {k.split(":", 1)[1]: w for k, w in self.weights.items() if k.startswith("gbm:")}

    @property
    def component_weights(self) -> dict[str, float]:
        """The model's weights: scorecard, GBM (all profiles merged into one booster), linear."""
        out: dict[str, float] = {}
        for key, w in self.weights.items():
            comp = key.split(":", 1)[0]
            out[comp] = out.get(comp, 0.0) + w
        return out


def _simplex(k: int, step: int) -> list[tuple[float, ...]]:
    """All weight vectors of length ``k`` on a grid of ``1/step`` that sum to 1."""
    return [(*(c / step for c in cs), (step - sum(cs)) / step)
            for cs in itertools.product(range(step + 1), repeat=k - 1) if sum(cs) <= step]  # fmt: skip


def choose(cv: CrossValidation, y: IntArray, cfg: TrainConfig) -> Choice:
    """Best candidate by out-of-fold AUC; for ``auto``, the best blend of all candidates (weights on
    a 0.1 grid of the simplex, blended on the log-odds scale) — several GBM profiles may share the
    GBM weight: they are merged into one LightGBM model (``gbm.merge``)."""
    idx = cv.covered
    aucs = {c: m.auc(y[idx], v[idx]) for c, v in cv.oof.items()}
    if cfg.kind != "auto":
        best = max(aucs, key=lambda c: aucs[c])
        return Choice({best: 1.0}, aucs, aucs[best])
    keys = list(cv.oof)
    parts = np.vstack([cv.oof[k][idx] for k in keys])
    best_auc, best_w = -1.0, (0.0,) * len(keys)
    for ws in _simplex(len(keys), BLEND_STEPS):
        a = m.auc(y[idx], np.asarray(ws) @ parts)
        if a > best_auc + 1e-12:
            best_auc, best_w = a, ws
    weights = {k: w for k, w in zip(keys, best_w, strict=True) if w > 0}
    return Choice(weights, aucs, best_auc)


def blended(cv: CrossValidation, choice: Choice) -> tuple[FloatArray, list[FloatArray]]:
    """The chosen model's out-of-fold log-odds and its in-fold (training-row) log-odds per fold."""
    oof = np.zeros_like(next(iter(cv.oof.values())))
    train = [np.zeros_like(t) for t in next(iter(cv.train_logits.values()))]
    for key, w in choice.weights.items():
        oof += w * cv.oof[key]
        train = [a + w * b for a, b in zip(train, cv.train_logits[key], strict=True)]
    return oof, train


def segment_columns(data: TrainingData, cfg: TrainConfig) -> list[str]:
    """Categorical features with ≤ 30 levels, and numeric codes with ≤ 12 distinct values."""
    if cfg.segment_columns is not None:
        missing = [c for c in cfg.segment_columns if c not in data.frame.columns]
        if missing:
            raise ValidationError("segment", f"column(s) {missing} not in data")
        return list(cfg.segment_columns)
    out = []
    for f in data.spec.features:
        levels = data.frame[f.name].nunique(dropna=True)
        limit = 30 if f.kind is FeatureKind.CATEGORICAL else 12
        if 2 <= levels <= limit:
            out.append(f.name)
    return out


def evaluate(
    data: TrainingData,
    x: FloatArray,
    cv: CrossValidation,
    choice: Choice,
    cfg: TrainConfig,
) -> dict[str, Any]:
    """Every reported figure, computed on out-of-fold predictions."""
    idx = cv.covered
    y = data.y[idx]
    oof_logit, train_logits = blended(cv, choice)
    logit = oof_logit[idx]
    # honest calibrated PDs: cross-fit the calibration on the out-of-fold log-odds
    calibrator, losses = choose_calibrator(logit, y, seed=cfg.seed)
    pd_cf = np.zeros_like(logit)
    fit = fit_platt if calibrator.kind == "platt" else fit_isotonic
    for tr, te in calibration_folds(y, cfg.seed).split(logit.reshape(-1, 1), y):
        pd_cf[te] = fit(logit[tr], y[tr])(logit[te])
    points = cfg.scale.points(logit)
    ranking = m.summary(y, logit)
    cal = m.summary(y, pd_cf)
    fpr, tpr = m.roc_points(y, logit)
    keep = np.unique(np.linspace(0, fpr.shape[0] - 1, min(200, fpr.shape[0])).astype(int))
    score_psi = [
        m.psi(tl, oof_logit[te]) for tl, (_, te) in zip(train_logits, cv.splits, strict=True)
    ]
    tr0, te0 = cv.splits[0]
    feature_psi = {
        name: m.psi(x[tr0, j], x[te0, j]) for j, name in enumerate(data.spec.feature_names)
    }
    segments: dict[str, list[dict[str, Any]]] = {}
    for col in segment_columns(data, cfg):
        values = [category_text(v) for v in data.frame[col].to_numpy()[idx]]
        segments[col] = m.segment_table(values, y, pd_cf)
    hist_edges = np.linspace(np.percentile(points, 0.5), np.percentile(points, 99.5), 31)
    return {
        "protocol": (
            f"out-of-time split on {cfg.date_column} (latest {cfg.oot_fraction:.0%})"
            if cfg.date_column
            else f"stratified {len(cv.splits)}-fold CV, seed {cfg.seed}, out-of-fold"
        ),
        "n_rows": int(data.y.shape[0]),
        "n_evaluated": int(idx.shape[0]),
        "bad_rate": float(data.y.mean()),
        "auc": ranking["auc"],
        "ks": ranking["ks"],
        "gini": ranking["gini"],
        "brier": cal["brier"],
        "log_loss": cal["log_loss"],
        "candidate_auc": choice.candidate_auc,
        "blend_weights": choice.component_weights,
        "candidate_weights": choice.weights,
        "gbm_profile": "+".join(choice.gbm_weights) or None,
        "calibration": {"chosen": calibrator.kind, "cv_log_loss": losses},
        "deciles": m.deciles(y, logit),
        "approval": m.approval_table(y, logit),
        "calibration_table": m.calibration_table(y, pd_cf),
        "psi_score_train_vs_test": float(np.mean(score_psi)),
        "psi_features_train_vs_test": feature_psi,
        "segments": segments,
        "roc": {"fpr": fpr[keep].tolist(), "tpr": tpr[keep].tolist()},
        "score_hist": {
            "edges": hist_edges.tolist(),
            "good": np.histogram(points[y == 0], bins=hist_edges)[0].tolist(),
            "bad": np.histogram(points[y == 1], bins=hist_edges)[0].tolist(),
        },
        "cv_seconds": cv.seconds,
        "cv_trees": cv.trees,
    }


@dataclass(frozen=True)
class TrainResult:
    model: CreditModel
    metrics: dict[str, Any]
    provenance: dict[str, Any]
    reference: dict[str, Any]
    oof_logit: FloatArray
    covered: IntArray


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for lib in ("numpy", "pandas", "scikit-learn", "lightgbm", "optbinning", "xindai"):
        try:
            out[lib] = md.version(lib)
        except md.PackageNotFoundError:
            out[lib] = "unknown"
    return out


def monitoring_reference(model: CreditModel, x: FloatArray) -> dict[str, Any]:
    """Training distributions of every feature and of the score, for PSI monitoring later."""
    feats: dict[str, Any] = {}
    for j, (name, kind) in enumerate(zip(model.schema.names, model.schema.kinds, strict=True)):
        col = x[:, j]
        if kind is FeatureKind.CATEGORICAL:
            edges = np.arange(len(model.schema.categories[j]) - 1, dtype=np.float64) + 0.5
        else:
            edges = m.psi_bins(col)
        feats[name] = {"edges": edges.tolist(), "shares": m.bin_shares(col, edges).tolist()}
    score = model.score(x)
    score_edges = m.psi_bins(score)
    return {
        "features": feats,
        "score": {
            "edges": score_edges.tolist(),
            "shares": m.bin_shares(score, score_edges).tolist(),
        },
    }


def fit_final(
    data: TrainingData, schema: Schema, x: FloatArray, choice: Choice, oof_logit: FloatArray,
    covered: IntArray, cfg: TrainConfig,
) -> CreditModel:  # fmt: skip
    """Refit every kept component on all rows (each GBM profile with its own early stopping) and
    fit the calibrator on the out-of-fold log-odds."""
    scorecard = None
    booster = None
    linear = None
    weights = choice.component_weights
    if "scorecard" in weights:
        scorecard = fit_scorecard(
            x, data.y, schema, monotone={f.name: f.monotone for f in data.spec.features},
            scale=cfg.scale,
        )  # fmt: skip
    if "gbm" in weights:
        members = [
            (gbm_mod.fit_gbm(
                x, data.y, schema.categorical_indices, profile=profile, seed=cfg.seed,
                monotone=_monotone(data.spec, schema, cfg),
            ), w / weights["gbm"])
            for profile, w in choice.gbm_weights.items()
        ]  # fmt: skip
        booster = gbm_mod.merge(members)
    if "linear" in weights:
        linear = fit_linear(x, data.y, schema)
    calibrator, _ = choose_calibrator(oof_logit[covered], data.y[covered], seed=cfg.seed)
    return CreditModel(
        schema=schema, spec=data.spec, scorecard=scorecard, booster=booster,
        weights=weights, calibrator=calibrator, scale=cfg.scale, linear=linear,
    )  # fmt: skip


def train(
    data: TrainingData,
    cfg: TrainConfig | None = None,
    *,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Cross-validate, choose, evaluate and refit on all rows."""
    cfg = cfg or TrainConfig()
    clock = clock or SystemClock()
    started = time.perf_counter()
    schema = learn_schema(data.frame, data.spec)
    x = encode(data.frame, schema)
    cv = cross_validate(data, schema, x, cfg, _candidates(cfg, (x.shape[0], x.shape[1])), progress)
    choice = choose(cv, data.y, cfg)
    metrics = evaluate(data, x, cv, choice, cfg)
    if progress:
        progress("final fit on all rows")
    oof_logit, _ = blended(cv, choice)
    model = fit_final(data, schema, x, choice, oof_logit, cv.covered, cfg)
    metrics["train_seconds"] = time.perf_counter() - started
    metrics["importance"] = model.importance()
    provenance = {
        "trained_at": clock.now().isoformat(),
        "data_sha256": fingerprint(data.files),
        "data_files": [p.name for p in data.files],
        "rows": int(data.y.shape[0]),
        "target": data.spec.target,
        "bad_value": data.spec.bad_value,
        "kind": model.kind,
        "config": {
            "kind": cfg.kind,
            "folds": cfg.folds,
            "seed": cfg.seed,
            "date_column": cfg.date_column,
            "monotone": cfg.monotone,
        },
        "libraries": library_versions(),
    }
    return TrainResult(
        model=model,
        metrics=metrics,
        provenance=provenance,
        reference=monitoring_reference(model, x),
        oof_logit=oof_logit,
        covered=cv.covered,
    )


def oof_for_groups(
    data: TrainingData, groups: Sequence[str], cfg: TrainConfig, progress: Progress | None = None
) -> tuple[FloatArray, IntArray, Mapping[str, float]]:
    """Out-of-fold log-odds of the same pipeline restricted to feature groups (for comparisons)."""
    sub = data.restrict(groups)
    schema = learn_schema(sub.frame, sub.spec)
    x = encode(sub.frame, schema)
    cv = cross_validate(sub, schema, x, cfg, _candidates(cfg, (x.shape[0], x.shape[1])), progress)
    choice = choose(cv, sub.y, cfg)
    oof, _ = blended(cv, choice)
    return oof, cv.covered, choice.candidate_auc
