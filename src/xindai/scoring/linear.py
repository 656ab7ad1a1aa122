"""A regularised logistic regression on raw features — the linear member of the ``auto`` blend.

Numeric features are clipped to their training 1st–99th percentiles, median-imputed with a missing
indicator, and standardised; categorical features are one-hot (unseen or missing → all zeros plus a
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

    def values(self, column: FloatArray) -> FloatArray:
        """This feature's additive term in the log-odds (before centring)."""
        missing = np.isnan(column)
        if self.kind is FeatureKind.NUMERIC:
            v = np.where(missing, self.median, np.clip(column, self.lo, self.hi))
            return np.asarray(
                self.coef * (v - self.mean) / self.scale + self.missing_coef * missing,
                dtype=np.float64,
            )
        table = np.append(np.asarray(self.category_coefs), self.missing_coef)
        codes = np.where(missing, len(self.category_coefs), column).astype(np.int64)
        codes[(codes < 0) | (codes > len(self.category_coefs))] = len(self.category_coefs)
        return np.asarray(table[codes], dtype=np.float64)

    def value(self, v: float) -> float:
        """Scalar ``values`` for the single-application path."""
        if v != v:
            if self.kind is FeatureKind.NUMERIC:
                return self.coef * (self.median - self.mean) / self.scale + self.missing_coef
            return self.missing_coef
        if self.kind is FeatureKind.NUMERIC:
            return self.coef * (min(max(v, self.lo), self.hi) - self.mean) / self.scale
        i = int(v)
        return self.category_coefs[i] if 0 <= i < len(self.category_coefs) else self.missing_coef

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "kind": self.kind.value, "lo": self.lo, "hi": self.hi,
            "median": self.median, "mean": self.mean, "scale": self.scale, "coef": self.coef,
            "missing_coef": self.missing_coef, "category_coefs": list(self.category_coefs),
            "centre": self.centre,
        }  # fmt: skip

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> Term:
        return Term(
            index=int(raw["index"]), kind=FeatureKind(raw["kind"]), lo=float(raw["lo"]),
            hi=float(raw["hi"]), median=float(raw["median"]), mean=float(raw["mean"]),
            scale=float(raw["scale"]), coef=float(raw["coef"]),
            missing_coef=float(raw["missing_coef"]),
            category_coefs=tuple(float(c) for c in raw["category_coefs"]),
            centre=float(raw["centre"]),
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
        out = np.zeros((x.shape[0], n_features))
        for t in self.terms:
            out[:, t.index] = t.values(x[:, t.index]) - t.centre
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"format": "xindai-linear/1", "intercept": self.intercept,
                "terms": [t.to_dict() for t in self.terms]}  # fmt: skip

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> LinearModel:
        return LinearModel(tuple(Term.from_dict(t) for t in raw["terms"]), float(raw["intercept"]))


def fit_linear(x: FloatArray, y: IntArray, schema: Schema, c: float = 0.1) -> LinearModel:
    """Fit the penalised logistic regression and express it as per-feature terms."""
    blocks: list[FloatArray] = []
    layout: list[tuple[int, FeatureKind, dict[str, float], int]] = []
    for j, kind in enumerate(schema.kinds):
        col = x[:, j]
        missing = np.isnan(col)
        if kind is FeatureKind.NUMERIC:
            present = col[~missing]
            if present.size == 0:
                continue
            lo, hi = (float(v) for v in np.percentile(present, [1, 99]))
            clipped = np.clip(col, lo, hi)
            med = float(np.median(np.clip(present, lo, hi)))
            filled = np.where(missing, med, clipped)
            mean, scale = float(filled.mean()), float(filled.std()) or 1.0
            blocks.append(((filled - mean) / scale).reshape(-1, 1))
            blocks.append(missing.astype(np.float64).reshape(-1, 1))
            layout.append(
                (j, kind, {"lo": lo, "hi": hi, "median": med, "mean": mean, "scale": scale}, 2)
            )
        else:
            n_cat = len(schema.categories[j])
            onehot = np.zeros((x.shape[0], n_cat + 1))
            codes = np.where(missing, n_cat, col).astype(np.int64)
            onehot[np.arange(x.shape[0]), codes] = 1.0
            blocks.append(onehot)
            layout.append((j, kind, {}, n_cat + 1))
    design = np.hstack(blocks)
    lr = LogisticRegression(C=c, max_iter=3000)
    lr.fit(design, y)
    coefs = lr.coef_[0]
    terms: list[Term] = []
    pos = 0
    for j, kind, stats, width in layout:
        w = coefs[pos : pos + width]
        pos += width
        if kind is FeatureKind.NUMERIC:
            term = Term(
                index=j, kind=kind, coef=float(w[0]), missing_coef=float(w[1]), lo=stats["lo"],
                hi=stats["hi"], median=stats["median"], mean=stats["mean"], scale=stats["scale"],
            )  # fmt: skip
        else:
            term = Term(index=j, kind=kind, category_coefs=tuple(float(v) for v in w[:-1]),
                        missing_coef=float(w[-1]))  # fmt: skip
        centre = float(term.values(x[:, j]).mean())
        terms.append(Term(**{**{s: getattr(term, s) for s in Term.__slots__}, "centre": centre}))  # type: ignore[attr-defined,arg-type]
    return LinearModel(tuple(terms), float(lr.intercept_[0]))
