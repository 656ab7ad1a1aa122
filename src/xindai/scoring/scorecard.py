"""WOE scorecard: optimal binning (optbinning), logistic regression on WOE, points per bin.

The fitted scorecard is a plain points table — per feature, bin edges (numeric) or category groups
(categorical), each with its WOE and its points, plus a *missing* bin — saved as JSON and evaluated
without optbinning or scikit-learn at decision time. Invariants:
* the score of a row is ``base_points + Σ points(feature, bin(row))``, exactly;
* a missing value, an unseen category or a category outside the fitted groups falls in the missing
  bin (whose WOE is 0 — neutral — when training had no missing values);
* every kept feature has a negative logistic coefficient on WOE (WOE is high for good borrowers);
  features whose coefficient comes out positive (collinearity) are dropped and the model refitted,
  so every points table reads the intuitive way.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression

from xindai.scoring.frame import FloatArray, IntArray, Schema
from xindai.scoring.scale import Scale
from xindai.scoring.spec import FeatureKind

MIN_IV = 0.02
_FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True, slots=True)
class BinTable:
    """One feature's bins. For numeric features ``splits`` are the left-closed edges; for categorical
    features ``groups`` lists the category codes of each bin."""

    feature: str
    index: int  # column in the schema matrix
    kind: FeatureKind
    splits: tuple[float, ...]
    groups: tuple[tuple[int, ...], ...]
    labels: tuple[str, ...]
    woe: tuple[float, ...]
    missing_woe: float
    counts: tuple[int, ...]
    bad_rates: tuple[float, ...]
    iv: float
    points: tuple[float, ...] = ()
    missing_points: float = 0.0

    @property
    def n_bins(self) -> int:
        return len(self.woe)

    def bin_index(self, column: FloatArray) -> IntArray:
        """Bin of each value; ``n_bins`` denotes the missing bin."""
        out = np.full(column.shape[0], self.n_bins, dtype=np.int64)
        present = ~np.isnan(column)
        if self.kind is FeatureKind.NUMERIC:
            out[present] = np.searchsorted(np.asarray(self.splits), column[present], side="right")
        else:
            lut = self.code_to_bin()
            codes = column[present].astype(np.int64)
            ok = (codes >= 0) & (codes < lut.shape[0])
            mapped = np.full(codes.shape[0], self.n_bins, dtype=np.int64)
            mapped[ok] = lut[codes[ok]]
            out[present] = mapped
        return out

    def code_to_bin(self) -> IntArray:
        size = 1 + max((max(g) for g in self.groups if g), default=-1)
        lut = np.full(size, self.n_bins, dtype=np.int64)
        for b, group in enumerate(self.groups):
            lut[list(group)] = b
        return lut

    def woe_values(self, column: FloatArray) -> FloatArray:
        table = np.append(np.asarray(self.woe), self.missing_woe)
        return table[self.bin_index(column)]

    def points_values(self, column: FloatArray) -> FloatArray:
        table = np.append(np.asarray(self.points), self.missing_points)
        return table[self.bin_index(column)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "index": self.index,
            "kind": self.kind.value,
            "splits": list(self.splits),
            "groups": [list(g) for g in self.groups],
            "labels": list(self.labels),
            "woe": list(self.woe),
            "missing_woe": self.missing_woe,
            "counts": list(self.counts),
            "bad_rates": list(self.bad_rates),
            "iv": self.iv,
            "points": list(self.points),
            "missing_points": self.missing_points,
        }

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> BinTable:
        return BinTable(
            feature=str(raw["feature"]),
            index=int(raw["index"]),
            kind=FeatureKind(raw["kind"]),
            splits=tuple(float(s) for s in raw["splits"]),
            groups=tuple(tuple(int(c) for c in g) for g in raw["groups"]),
            labels=tuple(str(lb) for lb in raw["labels"]),
            woe=tuple(float(w) for w in raw["woe"]),
            missing_woe=float(raw["missing_woe"]),
            counts=tuple(int(c) for c in raw["counts"]),
            bad_rates=tuple(float(r) for r in raw["bad_rates"]),
            iv=float(raw["iv"]),
            points=tuple(float(p) for p in raw["points"]),
            missing_points=float(raw["missing_points"]),
        )


@dataclass(frozen=True, slots=True)
class Scorecard:
    tables: tuple[BinTable, ...]
    base_points: float
    scale: Scale
    dropped: tuple[str, ...] = ()

    def points_matrix(self, x: FloatArray) -> FloatArray:
        """Points of each kept feature for each row, shape ``(n, len(tables))``."""
        cols = [t.points_values(x[:, t.index]) for t in self.tables]
        if not cols:
            return np.zeros((x.shape[0], 0))
        return np.column_stack(cols)

    def score(self, x: FloatArray) -> FloatArray:
        return np.asarray(self.base_points + self.points_matrix(x).sum(axis=1), dtype=np.float64)

    def logit(self, x: FloatArray) -> FloatArray:
        """Model log-odds of bad (before calibration)."""
        return self.scale.logit(self.score(x))

    def deficits(self, x: FloatArray, n_features: int) -> FloatArray:
        """Adverse contribution per schema feature in log-odds units: the points a row falls short
        of the feature's best bin, divided by the scale factor (0 for features not in the card)."""
        out = np.zeros((x.shape[0], n_features))
        for t in self.tables:
            best = max((*t.points, t.missing_points))
            out[:, t.index] = (best - t.points_values(x[:, t.index])) / self.scale.factor
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "xindai-scorecard/1",
            "base_points": self.base_points,
            "scale": self.scale.to_dict(),
            "dropped": list(self.dropped),
            "tables": [t.to_dict() for t in self.tables],
        }

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> Scorecard:
        return Scorecard(
            tables=tuple(BinTable.from_dict(t) for t in raw["tables"]),
            base_points=float(raw["base_points"]),
            scale=Scale(**raw["scale"]),
            dropped=tuple(raw.get("dropped", ())),
        )


def _trend(x: FloatArray, y: IntArray) -> str:
    """Direction of the bad rate along a feature, from the sign of its rank correlation with the
    target: one constrained solve instead of optbinning's two (``auto_asc_desc``), same bins in
    practice (the total IV on Taiwan agreed to the third decimal) at two thirds of the cost."""
    present = ~np.isnan(x)
    # constant x or y (one class among the rows where x is present): no direction — and spearmanr
    # would warn. min == max, not ptp: ptp overflows on ±1e308.
    if (
        present.sum() < 3
        or x[present].min() == x[present].max()
        or np.all(y[present] == y[present][0])
    ):
        return "ascending"
    rho = spearmanr(x[present], y[present]).statistic
    return "descending" if rho < 0 else "ascending"


def _bin_feature(
    x: FloatArray,
    y: IntArray,
    j: int,
    name: str,
    kind: FeatureKind,
    categories: Sequence[str],
    monotone: int,
) -> BinTable | None:
    from optbinning import OptimalBinning  # heavy import, needed only when training

    if kind is FeatureKind.NUMERIC:
        trend = {1: "ascending", -1: "descending"}.get(monotone) or _trend(x, y)
        ob = OptimalBinning(
            name=name, dtype="numerical", monotonic_trend=trend, max_n_prebins=20,
            min_prebin_size=0.03, solver="cp", time_limit=10,
        )  # fmt: skip
        # optbinning's pre-binning tree works in float32: a finite double beyond its range (1e308
        # in a file) would become inf there and stop the fit. Clipping to the float32 range keeps
        # the order, and leaves every value an ordinary table holds untouched; the bins' statistics
        # below are computed on the unclipped column.
        values: npt.NDArray[Any] = np.clip(x, -_FLOAT32_MAX, _FLOAT32_MAX)
    else:
        ob = OptimalBinning(
            name=name, dtype="categorical", max_n_prebins=20, min_prebin_size=0.03,
            solver="cp", time_limit=10,
        )  # fmt: skip
        texts = np.array([categories[int(c)] if c == c else np.nan for c in x], dtype=object)
        values = texts
    with warnings.catch_warnings():
        # optbinning/sklearn internals may warn about deprecated options; not actionable here
        warnings.simplefilter("ignore")
        ob.fit(values, y)
    if ob.status not in ("OPTIMAL", "FEASIBLE"):
        return None
    if kind is FeatureKind.NUMERIC:
        splits = tuple(float(s) for s in ob.splits)
        groups: tuple[tuple[int, ...], ...] = ()
        edges = ["-inf", *(f"{s:g}" for s in splits), "inf"]
        labels = tuple(f"[{edges[i]}, {edges[i + 1]})" for i in range(len(edges) - 1))
    else:
        lookup = {c: i for i, c in enumerate(categories)}
        groups = tuple(
            tuple(lookup[str(m)] for m in members if str(m) in lookup) for members in ob.splits
        )
        groups = tuple(g for g in groups if g)
        splits = ()
        labels = tuple(", ".join(categories[c] for c in g) for g in groups)
    shell = BinTable(
        feature=name, index=j, kind=kind, splits=splits, groups=groups, labels=labels,
        woe=(0.0,) * len(labels), missing_woe=0.0, counts=(), bad_rates=(), iv=0.0,
    )  # fmt: skip
    return _with_statistics(shell, x, y)


def _with_statistics(shell: BinTable, x: FloatArray, y: IntArray) -> BinTable:
    """Counts, bad rates, WOE = ln(good share / bad share) and IV, from this module's own binning
    (so training and scoring agree bin for bin). A half-count smooths empty cells."""
    idx = shell.bin_index(x)
    n_bins = shell.n_bins
    bads = np.bincount(idx, weights=y.astype(np.float64), minlength=n_bins + 1)
    counts = np.bincount(idx, minlength=n_bins + 1).astype(np.float64)
    goods = counts - bads
    total_bad = max(float(bads.sum()), 1.0)
    total_good = max(float(goods.sum()), 1.0)
    good_share = (goods + 0.5) / total_good
    bad_share = (bads + 0.5) / total_bad
    woe = np.log(good_share / bad_share)
    iv_terms = (good_share - bad_share) * woe
    woe[counts == 0] = 0.0
    iv_terms[counts == 0] = 0.0
    rates = np.divide(bads, counts, out=np.zeros_like(bads), where=counts > 0)
    return BinTable(
        feature=shell.feature, index=shell.index, kind=shell.kind, splits=shell.splits,
        groups=shell.groups, labels=shell.labels,
        woe=tuple(float(w) for w in woe[:n_bins]), missing_woe=float(woe[n_bins]),
        counts=tuple(int(c) for c in counts), bad_rates=tuple(float(r) for r in rates),
        iv=float(iv_terms.sum()),
    )  # fmt: skip


def fit_scorecard(
    x: FloatArray,
    y: IntArray,
    schema: Schema,
    *,
    monotone: Mapping[str, int] | None = None,
    scale: Scale | None = None,
    min_iv: float = MIN_IV,
    c: float = 1.0,
) -> Scorecard:
    """Bin every feature, keep those with IV ≥ ``min_iv``, fit the WOE logistic regression, and turn
    its coefficients into points on ``scale``."""
    scale = scale or Scale()
    monotone = monotone or {}
    tables: list[BinTable] = []
    for j, (name, kind, cats) in enumerate(
        zip(schema.names, schema.kinds, schema.categories, strict=True)
    ):
        table = _bin_feature(x[:, j], y, j, name, kind, cats, monotone.get(name, 0))
        if table is not None:
            tables.append(table)
    kept = [t for t in tables if t.iv >= min_iv] or sorted(tables, key=lambda t: -t.iv)[:1]
    dropped = [t.feature for t in tables if t not in kept]
    while True:
        woe = np.column_stack([t.woe_values(x[:, t.index]) for t in kept])
        lr = LogisticRegression(C=c, max_iter=2000, solver="newton-cholesky")
        lr.fit(woe, y)
        coefs = lr.coef_[0]
        wrong = [i for i, b in enumerate(coefs) if b > 0]
        if not wrong or len(kept) == 1:
            break
        worst = max(wrong, key=lambda i: coefs[i])
        dropped.append(kept[worst].feature)
        kept = [t for i, t in enumerate(kept) if i != worst]
    intercept = float(lr.intercept_[0])
    factor = scale.factor
    final = []
    for t, b in zip(kept, coefs, strict=True):
        pts = tuple(round(-factor * float(b) * w, 4) for w in t.woe)
        miss = round(-factor * float(b) * t.missing_woe, 4)
        final.append(
            BinTable(**{**_fields(t), "points": pts, "missing_points": miss})  # type: ignore[arg-type]
        )
    base = round(scale.offset - factor * intercept, 4)
    return Scorecard(tables=tuple(final), base_points=base, scale=scale, dropped=tuple(dropped))


def _fields(t: BinTable) -> dict[str, object]:
    return {name: getattr(t, name) for name in BinTable.__slots__}  # type: ignore[attr-defined]
