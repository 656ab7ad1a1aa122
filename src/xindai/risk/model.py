"""Models next to the rules: a LightGBM classifier over indicators and a robust-z anomaly score.

Saved without pickle: the booster as LightGBM's own text format (``model.txt``) plus a JSON sidecar
(``model.json``: feature names, params, metrics, the training protocol), and the anomaly model as
JSON (per-feature median and MAD).

Scoring one event must be fast and must not need LightGBM's per-call overhead (a single-row
``predict`` costs ~100 µs), so ``TreeScorer`` walks the trees in pure Python from LightGBM's JSON
dump; ``tests/unit/risk`` cross-checks it against ``Booster.predict`` (the slow reference). Batched
callers (training, backtests, the Redis worker) use ``score_matrix``.

Invariants: feature order is the registry order stored in ``model.json``; NaN means missing and
follows LightGBM's missing-value routing exactly; scores are probabilities in [0, 1].
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xindai.risk.codegen import compile_trees

FloatArray = NDArray[np.float64]

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbose": -1,
    "seed": 7,
    "deterministic": True,
    "num_threads": 1,
}
NUM_ROUNDS = 200


def _node_fn(node: Mapping[str, Any]) -> tuple[Any, ...]:
    """Compact a JSON tree node into nested tuples: leaf ``(value,)`` or a split tuple."""
    if "leaf_value" in node:
        return (float(node["leaf_value"]),)
    missing = node.get("missing_type", "None")
    return (
        int(node["split_feature"]),
        float(node["threshold"]),
        bool(node.get("default_left", True)),
        missing,
        _node_fn(node["left_child"]),
        _node_fn(node["right_child"]),
    )


def _walk(tree: tuple[Any, ...], x: Sequence[float]) -> float:
    while len(tree) > 1:
        feature, threshold, default_left, missing, left, right = tree
        v = x[feature]
        if v != v:  # NaN
            if missing == "NaN":
                tree = left if default_left else right
                continue
            v = 0.0
        if missing == "Zero" and v == 0.0:
            tree = left if default_left else right
        elif v <= threshold:
            tree = left
        else:
            tree = right
    value: float = tree[0]
    return value


class TreeScorer:
    """Pure-Python evaluator of a binary LightGBM model (``Booster.dump_model()`` JSON).

    By default the trees are compiled into one straight-line function of nested ``if``s
    (``xindai.risk.codegen.compile_trees``, ~10x faster than walking the tuples);
    ``compiled=False`` walks them (the reference the compiled form is tested against).
    """

    def __init__(
        self, dump: Mapping[str, Any], feature_names: Sequence[str], *, compiled: bool = True
    ) -> None:
        self.trees = tuple(_node_fn(t["tree_structure"]) for t in dump["tree_info"])
        self.feature_names = tuple(feature_names)
        self._raw = compile_trees(self.trees, len(self.feature_names)) if compiled else None

    def raw(self, x: Sequence[float]) -> float:
        if self._raw is not None:
            return self._raw(x)
        return sum(_walk(t, x) for t in self.trees)

    def score(self, values: Mapping[str, float]) -> float:
        x = [values.get(n, math.nan) for n in self.feature_names]
        z = self.raw(x)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


@dataclass
class GbmModel:
    """A trained model: booster text, feature names and the training record."""

    booster_text: str
    feature_names: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    _scorer: TreeScorer | None = None
    _booster: Any = None

    def booster(self) -> Any:
        if self._booster is None:
            import lightgbm as lgb

            self._booster = lgb.Booster(model_str=self.booster_text)
        return self._booster

    @property
    def scorer(self) -> TreeScorer:
        if self._scorer is None:
            self._scorer = TreeScorer(self.booster().dump_model(), self.feature_names)
        return self._scorer

    def score(self, values: Mapping[str, float]) -> float:
        return self.scorer.score(values)

    def score_many(self, rows: Sequence[Mapping[str, float]]) -> list[float]:
        """Vectorised scores for a micro-batch of indicator mappings (one LightGBM call)."""
        names = self.feature_names
        matrix = np.array([[row.get(n, math.nan) for n in names] for row in rows], dtype=np.float64)
        return [float(v) for v in self.score_matrix(matrix)]

    def score_matrix(self, matrix: FloatArray) -> FloatArray:
        # One thread: OpenMP workers spin-waiting for each small batch cost more than they save,
        # and the engine is single-threaded per partition by design.
        out: FloatArray = np.asarray(
            self.booster().predict(matrix, num_threads=1), dtype=np.float64
        )
        return out

    def save(self, directory: str | Path) -> None:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.txt").write_text(self.booster_text, encoding="utf-8")
        meta = {"feature_names": list(self.feature_names), **self.meta}
        (folder / "model.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path) -> GbmModel:
        folder = Path(directory)
        meta = json.loads((folder / "model.json").read_text(encoding="utf-8"))
        names = tuple(meta.pop("feature_names"))
        return cls((folder / "model.txt").read_text(encoding="utf-8"), names, meta)


def train_gbm(
    x: FloatArray,
    y: NDArray[Any],
    feature_names: Sequence[str],
    params: Mapping[str, Any] | None = None,
    rounds: int = NUM_ROUNDS,
) -> GbmModel:
    """Fit a binary LightGBM model (deterministic, one thread)."""
    import lightgbm as lgb

    merged = {**DEFAULT_PARAMS, **(params or {})}
    data = lgb.Dataset(x, label=y, feature_name=list(feature_names), free_raw_data=True)
    booster = lgb.train(merged, data, num_boost_round=rounds)
    return GbmModel(
        booster.model_to_string(),
        tuple(feature_names),
        {"params": merged, "rounds": rounds},
        _booster=booster,
    )


class RobustZAnomaly:
    """Unsupervised anomaly score: robust z-scores (median/MAD) of the indicators.

    ``score = 1 - exp(-m / scale)`` where ``m`` is the mean of the three largest ``|z|`` values,
    so ordinary events sit near 0 and events extreme on several indicators approach 1.
    """

    def __init__(
        self,
        feature_names: Sequence[str],
        medians: Sequence[float],
        mads: Sequence[float],
        scale: float = 10.0,
    ) -> None:
        self.feature_names = tuple(feature_names)
        self.params = tuple(
            (n, m, d) for n, m, d in zip(feature_names, medians, mads, strict=True) if d > 0
        )
        self.medians = tuple(medians)
        self.mads = tuple(mads)
        self.scale = scale

    @classmethod
    def fit(cls, x: FloatArray, feature_names: Sequence[str]) -> RobustZAnomaly:
        finite = np.where(np.isfinite(x), x, np.nan)
        med = np.zeros(x.shape[1])
        mad = np.zeros(x.shape[1])
        # All-NaN columns (an indicator this data never feeds) keep MAD 0 and are ignored.
        for j in np.flatnonzero(np.isfinite(finite).any(axis=0)):
            column = finite[:, j][np.isfinite(finite[:, j])]
            med[j] = np.median(column)
            mad[j] = np.median(np.abs(column - med[j])) * 1.4826
        return cls(feature_names, med.tolist(), mad.tolist())

    def score_many(self, rows: Sequence[Mapping[str, float]]) -> list[float]:
        """``score`` for a micro-batch, vectorised with numpy; equal to ``score`` row by row
        (the z-scores are exactly rounded IEEE operations either way; the top three are summed in
        the same descending order and the final ``exp`` is ``math.exp``)."""
        if not rows:
            return []
        if not self.params:
            return [0.0] * len(rows)
        names = [n for n, _, _ in self.params]
        x = np.array([[row.get(n, math.nan) for n in names] for row in rows], dtype=np.float64)
        med = np.array([m for _, m, _ in self.params])
        mad = np.array([d for _, _, d in self.params])
        z = np.abs(x - med) / mad
        z = np.where(np.isfinite(x), z, -np.inf)  # unknown or infinite values do not count
        k = min(3, z.shape[1])
        top = -np.sort(-z, axis=1)[:, :k]  # descending
        out: list[float] = []
        scale = self.scale
        for row in top.tolist():
            kept = [v for v in row if v != -math.inf]
            if not kept:
                out.append(0.0)
                continue
            total = 0.0
            for v in kept:
                total += v
            out.append(1.0 - math.exp(-(total / len(kept)) / scale))
        return out

    def score(self, values: Mapping[str, float]) -> float:
        zs = []
        for name, med, mad in self.params:
            v = values.get(name, math.nan)
            if v == v and not math.isinf(v):
                zs.append(abs(v - med) / mad)
        if not zs:
            return 0.0
        zs.sort(reverse=True)
        top = zs[:3]
        return 1.0 - math.exp(-(sum(top) / len(top)) / self.scale)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "robust_z",
            "feature_names": list(self.feature_names),
            "medians": list(self.medians),
            "mads": list(self.mads),
            "scale": self.scale,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RobustZAnomaly:
        return cls(raw["feature_names"], raw["medians"], raw["mads"], float(raw["scale"]))


def roc_auc(y: NDArray[Any], s: FloatArray) -> float:
    """Area under the ROC curve (rank statistic, ties averaged)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def average_precision(y: NDArray[Any], s: FloatArray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, s))
