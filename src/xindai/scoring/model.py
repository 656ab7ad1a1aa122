"""A trained credit model: scorecard, LightGBM, logistic regression, or a blend, plus its calibrator.

Invariants:
* ``logit(x) = Σ w_c · component_c(x)`` over the scorecard, the GBM and the linear model (log-odds
  of bad; the weights are in [0, 1] and sum to 1 — a pure model has one weight of 1);
* ``score = offset − factor · logit`` — for a pure scorecard this is exactly the points sum;
* ``pd = calibrator(logit)`` is non-decreasing in the logit, so higher score ⇔ lower PD;
* adverse reasons are the features with the largest positive contribution to the log-odds of bad
  (scorecard point deficits, LightGBM path attributions, centred linear terms — weighted like the
  blend).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import lightgbm as lgb
import numpy as np

from xindai.kernel import InvariantViolation
from xindai.scoring import gbm as gbm_mod
from xindai.scoring.calibration import Calibrator
from xindai.scoring.frame import FloatArray, Schema
from xindai.scoring.linear import LinearModel
from xindai.scoring.scale import Scale
from xindai.scoring.scorecard import Scorecard
from xindai.scoring.spec import DatasetSpec
from xindai.scoring.trees import Ensemble

COMPONENTS = ("scorecard", "gbm", "linear")


@dataclass(frozen=True)
class CreditModel:
    schema: Schema
    spec: DatasetSpec
    scorecard: Scorecard | None
    booster: lgb.Booster | None
    weights: Mapping[str, float]
    calibrator: Calibrator
    scale: Scale
    linear: LinearModel | None = None

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(COMPONENTS)
        if unknown or any(not 0.0 <= w <= 1.0 for w in self.weights.values()):
            raise InvariantViolation(f"bad blend weights {dict(self.weights)}")
        if abs(sum(self.weights.values()) - 1.0) > 1e-9:
            raise InvariantViolation(f"blend weights {dict(self.weights)} do not sum to 1")
        present = {"scorecard": self.scorecard, "gbm": self.booster, "linear": self.linear}
        for name, w in self.weights.items():
            if w > 0 and present[name] is None:
                raise InvariantViolation(f"a {name} weight without a {name} component")

    def w(self, component: str) -> float:
        return float(self.weights.get(component, 0.0))

    @cached_property
    def ensemble(self) -> Ensemble | None:
        """The booster parsed for exact path attributions (None without a GBM)."""
        if self.booster is None:
            return None
        return Ensemble(gbm_mod.to_text(self.booster), len(self.schema.names))

    @property
    def kind(self) -> str:
        used = [c for c in COMPONENTS if self.w(c) > 0]
        return used[0] if len(used) == 1 else "blend"

    def logit(self, x: FloatArray, threads: int = 1) -> FloatArray:
        """Blended log-odds; ``threads`` > 1 spreads a large batch's LightGBM scoring over that
        many threads (same values)."""
        out = np.zeros(x.shape[0])
        if self.w("gbm") > 0 and self.booster is not None:
            out += self.w("gbm") * gbm_mod.raw_logit(self.booster, x, threads)
        if self.w("scorecard") > 0 and self.scorecard is not None:
            out += self.w("scorecard") * self.scorecard.logit(x)
        if self.w("linear") > 0 and self.linear is not None:
            out += self.w("linear") * self.linear.logit(x)
        return out

    def pd(self, x: FloatArray) -> FloatArray:
        return self.calibrator(self.logit(x))

    def score(self, x: FloatArray) -> FloatArray:
        return self.scale.points(self.logit(x))

    def adverse(self, x: FloatArray) -> FloatArray:
        """Adverse contribution (log-odds of bad) per schema feature, shape ``(n, k)``."""
        k = len(self.schema.names)
        out = np.zeros((x.shape[0], k))
        if self.w("gbm") > 0 and self.ensemble is not None:
            out += self.w("gbm") * self.ensemble.explain(x)[1]
        if self.w("scorecard") > 0 and self.scorecard is not None:
            out += self.w("scorecard") * self.scorecard.deficits(x, k)
        if self.w("linear") > 0 and self.linear is not None:
            out += self.w("linear") * self.linear.contributions(x, k)
        return out

    def reasons(self, x: FloatArray, top: int = 3) -> list[list[int]]:
        """Indices of the top adverse features per row (only strictly adverse ones)."""
        contrib = self.adverse(x)
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
        return [[int(j) for j in row if contrib[i, j] > 1e-9] for i, row in enumerate(order)]

    def importance(self) -> dict[str, float]:
        """Share of importance per feature: GBM gain, scorecard IV and |linear coefficient|,
        each normalised and blended with the model's weights."""
        k = len(self.schema.names)
        total = np.zeros(k)
        if self.w("gbm") > 0 and self.booster is not None:
            gain = gbm_mod.importance(self.booster)
            total += self.w("gbm") * gain / max(gain.sum(), 1e-12)
        if self.w("scorecard") > 0 and self.scorecard is not None:
            iv = np.zeros(k)
            for t in self.scorecard.tables:
                iv[t.index] = t.iv
            total += self.w("scorecard") * iv / max(iv.sum(), 1e-12)
        if self.w("linear") > 0 and self.linear is not None:
            mag = np.zeros(k)
            for term in self.linear.terms:
                mag[term.index] = abs(term.coef) + max(
                    (abs(c) for c in term.category_coefs), default=0
                )
            total += self.w("linear") * mag / max(mag.sum(), 1e-12)
        return {n: float(v) for n, v in zip(self.schema.names, total, strict=True)}
