"""Calibration of model log-odds into a probability of default: isotonic or Platt.

The method is *chosen* on held-out data: both are cross-fitted on out-of-fold model outputs and the
one with the lower out-of-fold log loss wins. The fitted calibrator is plain JSON — Platt's two
coefficients, or isotonic thresholds (x, y pairs, linearly interpolated and clipped at the ends).
Invariants: output is in [EPS, 1 − EPS] and non-decreasing in the log-odds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from xindai.kernel import ValidationError
from xindai.scoring.frame import FloatArray, IntArray, minority_count

EPS = 1e-4


@dataclass(frozen=True, slots=True)
class Calibrator:
    kind: str  # "platt" | "isotonic"
    a: float = 1.0
    b: float = 0.0
    xs: tuple[float, ...] = ()
    ys: tuple[float, ...] = ()

    def __call__(self, logit: FloatArray) -> FloatArray:
        if self.kind == "platt":
            p = np.asarray(expit(self.a * logit + self.b), dtype=np.float64)  # overflow-safe
        elif self.kind == "isotonic":
            p = np.interp(logit, np.asarray(self.xs), np.asarray(self.ys))
        else:
            raise ValidationError("calibrator.kind", f"unknown {self.kind!r}")
        return np.clip(p, EPS, 1.0 - EPS)

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "platt":
            return {"kind": "platt", "a": self.a, "b": self.b}
        return {"kind": "isotonic", "x": list(self.xs), "y": list(self.ys)}

    @staticmethod
    def from_dict(raw: Mapping[str, Any]) -> Calibrator:
        if raw["kind"] == "platt":
            return Calibrator("platt", a=float(raw["a"]), b=float(raw["b"]))
        return Calibrator(
            "isotonic",
            xs=tuple(float(v) for v in raw["x"]),
            ys=tuple(float(v) for v in raw["y"]),
        )


def fit_platt(logit: FloatArray, y: IntArray) -> Calibrator:
    lr = LogisticRegression(C=1e6, max_iter=1000)
    lr.fit(logit.reshape(-1, 1), y)
    slope = float(lr.coef_[0, 0])
    if slope <= 0:
        # a calibration map must not reverse the model's ranking; with no usable slope the honest
        # answer is the base rate for everyone
        rate = float(np.clip(y.mean(), EPS, 1 - EPS))
        return Calibrator("platt", a=0.0, b=float(np.log(rate / (1 - rate))))
    return Calibrator("platt", a=slope, b=float(lr.intercept_[0]))


def fit_isotonic(logit: FloatArray, y: IntArray) -> Calibrator:
    iso = IsotonicRegression(y_min=EPS, y_max=1 - EPS, out_of_bounds="clip")
    iso.fit(logit, y.astype(np.float64))
    return Calibrator(
        "isotonic",
        xs=tuple(float(v) for v in iso.X_thresholds_),
        ys=tuple(float(v) for v in iso.y_thresholds_),
    )


def log_loss(y: IntArray, p: FloatArray) -> float:
    p = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


#: folds of the calibration cross-fit
CALIBRATION_FOLDS = 5


def calibration_folds(y: IntArray, seed: int = 42) -> StratifiedKFold:
    """The cross-fitting folds for calibrating on ``y``: ``CALIBRATION_FOLDS``, or as many as the
    rarer class has rows when that is fewer (a small out-of-time test part may hold 2–4 bads; a
    stratified split needs one of each class per fold). Fewer than 2 rows of a class cannot be
    cross-fitted: a ``ValidationError`` naming the target."""
    minority = minority_count(y)
    if minority < 2:
        raise ValidationError(
            "target", f"the evaluated rows hold {minority} row(s) of one class; need at least 2"
        )
    return StratifiedKFold(
        n_splits=min(CALIBRATION_FOLDS, minority), shuffle=True, random_state=seed
    )


def choose_calibrator(
    logit: FloatArray, y: IntArray, seed: int = 42
) -> tuple[Calibrator, dict[str, float]]:
    """Cross-fit both methods on (out-of-fold) log-odds; refit the winner on everything."""
    folds = calibration_folds(y, seed)
    held: dict[str, FloatArray] = {"platt": np.zeros_like(logit), "isotonic": np.zeros_like(logit)}
    for tr, te in folds.split(logit.reshape(-1, 1), y):
        held["platt"][te] = fit_platt(logit[tr], y[tr])(logit[te])
        held["isotonic"][te] = fit_isotonic(logit[tr], y[tr])(logit[te])
    losses = {k: log_loss(y, v) for k, v in held.items()}
    best = min(losses, key=lambda k: losses[k])
    chosen = fit_platt(logit, y) if best == "platt" else fit_isotonic(logit, y)
    return chosen, losses
