"""A regularised logistic regression on raw features — the linear member of the ``auto`` blend.

Numeric features are clipped to their training 1st–99th percentiles, median-imputed with a missing
indicator, and standardised; each then enters as a *piecewise-linear* term — a slope plus hinge
functions max(0, z − knot) at quantile knots — so a U-shaped or saturating risk curve is learned
without binning (a plain linear term misses it; a binned one is a step function); categorical features are one-hot (unseen or missing → all zeros plus a
missing indicator). The fitted model is plain JSON: per feature its clip range, median, mean, scale
and coefficients. Invariant: a feature's *contribution* is its term minus the term's training mean,
so contributions are centred on the average applicant and sum (with the intercept and the centres)
to the log-odds exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from xindai.scoring.frame import FloatArray, IntArray, Schema
from xindai.scoring.spec import FeatureKind


@dataclass(frozen=True, slots=True)
class Term:
    index: int
    kind: FeatureKind
    lo: float = 0.0
    hi: float = 0.0
    median: float = 0.0
    mean: float = 0.0
    scale: float = 1.0
    coef: float = 0.0
    missing_coef: float = 0.0
    category_coefs: tuple[float, ...] = ()
    centre: float = 0.0
    knots: tuple[float, ...] = ()  # standardised hinge positions
    hinge_coefs: tuple[float, ...] = ()

    def values(self, column: FloatArray) -> FloatArray:
        """This feature's additive term in the log-odds (before centring)."""
        missing = np.isnan(column)
        if self.kind is FeatureKind.NUMERIC:
            v = np.where(missing, self.median, np.clip(column, self.lo, self.hi))
            z = (v - self.mean) / self.scale
            out = self.coef * z + self.missing_coef * missing
            for k, c in zip(self.knots, self.hinge_coefs, strict=True):
                out += c * np.maximum(z - k, 0.0)
            return np.asarray(out, dtype=np.float64)
        table = np.append(np.asarray(self.category_coefs), self.missing_coef)
        codes = np.where(missing, len(self.category_coefs), column).astype(np.int64)
        codes[(codes < 0) | (codes > len(self.category_coefs))] = len(self.category_coefs)
        return np.asarray(table[codes], dtype=np.float64)

    def value(self, v: float) -> float:
        """Scalar ``values`` for the single-application path."""
        if self.kind is FeatureKind.NUMERIC:
            missing = v != v
            z = (
                (self.median if missing else min(max(v, self.lo), self.hi)) - self.mean
            ) / self.scale
            out = self.coef * z + (self.missing_coef if missing else 0.0)
            for k, c in zip(self.knots, self.hinge_coefs, strict=True):
                if z > k:
                    out += c * (z - k)
            return out
        if v != v:
            return self.missing_coef
        i = int(v)
        return self.category_coefs[i] if 0 <= i < len(self.category_coefs) else self.missing_coef

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "kind": self.kind.value, "lo": self.lo, "hi": self.hi,
            "median": self.median, "mean": self.mean, "scale": self.scale, "coef": self.coef,
            "missing_coef": self.missing_coef, "category_coefs": list(self.category_coefs),
            "centre": self.centre, "knots": list(self.knots), "hinge_coefs": list(self.hinge_coefs),
        }  # fmt: skip

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> Term:
        return Term(
            index=int(raw["index"]), kind=FeatureKind(raw["kind"]), lo=float(raw["lo"]),
            hi=float(raw["hi"]), median=float(raw["median"]), mean=float(raw["mean"]),
            scale=float(raw["scale"]), coef=float(raw["coef"]),
            missing_coef=float(raw["missing_coef"]),
            category_coefs=tuple(float(c) for c in raw["category_coefs"]),
            centre=float(raw["centre"]), knots=tuple(float(k) for k in raw.get("knots", ())),
            hinge_coefs=tuple(float(c) for c in raw.get("hinge_coefs", ())),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class LinearModel:
    terms: tuple[Term, ...]
    intercept: float

    def logit(self, x: FloatArray) -> FloatArray:
        out = np.full(x.shape[0], self.intercept)
        for t in self.terms:
            out += t.values(x[:, t.index])
        return out

    def contributions(self, x: FloatArray, n_features: int) -> FloatArray:
        return self.logit_and_contributions(x, n_features)[1]

    def logit_and_contributions(
        self, x: FloatArray, n_features: int
    ) -> tuple[FloatArray, FloatArray]:
        """``logit(x)`` (the same additions in the same order) and the centred contributions
        ``(n, n_features)``, each term evaluated once for both."""
        logit = np.full(x.shape[0], self.intercept)
        out = np.zeros((x.shape[0], n_features))
        for t in self.terms:
            values = t.values(x[:, t.index])
            logit += values
            out[:, t.index] = values - t.centre
        return logit, out

    def to_dict(self) -> dict[str, Any]:
        return {"format": "xindai-linear/1", "intercept": self.intercept,
                "terms": [t.to_dict() for t in self.terms]}  # fmt: skip

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> LinearModel:
        return LinearModel(tuple(Term.from_dict(t) for t in raw["terms"]), float(raw["intercept"]))


#: hinge knots per numeric feature (at interior quantiles of the standardised values)
N_KNOTS = 8


def _knots(z: FloatArray, n_knots: int) -> FloatArray:
    qs = np.linspace(0, 100, n_knots + 2)[1:-1]
    knots = np.unique(np.percentile(z, qs))
    return np.asarray(knots[(knots > z.min()) & (knots < z.max())], dtype=np.float64)


def fit_linear(
    x: FloatArray, y: IntArray, schema: Schema, c: float = 0.1, n_knots: int = N_KNOTS
) -> LinearModel:
    """Fit the penalised logistic regression and express it as per-feature terms."""
    blocks: list[FloatArray] = []
    layout: list[tuple[int, FeatureKind, dict[str, float], tuple[float, ...], int]] = []
    for j, kind in enumerate(schema.kinds):
        col = x[:, j]
        missing = np.isnan(col)
        if kind is FeatureKind.NUMERIC:
            present = col[~missing]
            if present.size == 0:
                continue
            with np.errstate(over="ignore", invalid="ignore"):
                lo, hi = (float(v) for v in np.percentile(present, [1, 99]))
                clipped = np.clip(col, lo, hi)
                med = float(np.median(np.clip(present, lo, hi)))
                filled = np.where(missing, med, clipped)
                mean, scale = float(filled.mean()), float(filled.std()) or 1.0
                z = (filled - mean) / scale
            if not (np.isfinite([lo, hi, med, mean, scale]).all() and np.isfinite(z).all()):
                # values near the float range's ends (1e308 in a file): their sum or spread
                # overflows, so the feature cannot be standardised (nor its term saved as JSON) —
                # the linear member leaves it out; the scorecard and the GBM still use it.
                # Ordinary columns never get here.
                continue
            knots = _knots(z[~missing], n_knots)
            blocks.append(z.reshape(-1, 1))
            blocks.append(missing.astype(np.float64).reshape(-1, 1))
            if knots.size:
                blocks.append(np.maximum(z[:, None] - knots[None, :], 0.0))
            stats = {"lo": lo, "hi": hi, "median": med, "mean": mean, "scale": scale}
            layout.append((j, kind, stats, tuple(float(k) for k in knots), 2 + knots.size))
        else:
            n_cat = len(schema.categories[j])
            onehot = np.zeros((x.shape[0], n_cat + 1))
            codes = np.where(missing, n_cat, col).astype(np.int64)
            onehot[np.arange(x.shape[0]), codes] = 1.0
            blocks.append(onehot)
            layout.append((j, kind, {}, (), n_cat + 1))
    if not blocks:
        # no feature the linear member can use (each missing throughout these rows, or beyond the
        # float range): the model is the base rate, its terms empty
        rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        return LinearModel((), float(np.log(rate / (1 - rate))))
    design = np.hstack(blocks)
    lr = LogisticRegression(C=c, max_iter=3000, solver="newton-cholesky")
    lr.fit(design, y)
    coefs = lr.coef_[0]
    terms: list[Term] = []
    pos = 0
    for j, kind, stats, knot_list, width in layout:
        w = coefs[pos : pos + width]
        pos += width
        if kind is FeatureKind.NUMERIC:
            term = Term(
                index=j, kind=kind, coef=float(w[0]), missing_coef=float(w[1]), lo=stats["lo"],
                hi=stats["hi"], median=stats["median"], mean=stats["mean"], scale=stats["scale"],
                knots=knot_list, hinge_coefs=tuple(float(v) for v in w[2:]),
            )  # fmt: skip
        else:
            term = Term(index=j, kind=kind, category_coefs=tuple(float(v) for v in w[:-1]),
                        missing_coef=float(w[-1]))  # fmt: skip
        centre = float(term.values(x[:, j]).mean())
        terms.append(Term(**{**{s: getattr(term, s) for s in Term.__slots__}, "centre": centre}))  # type: ignore[attr-defined,arg-type]
    return LinearModel(tuple(terms), float(lr.intercept_[0]))
