"""A trained credit model: scorecard, LightGBM booster, or a blend of both, plus its calibrator.

Invariants:
* ``logit(x) = w · gbm(x) + (1 − w) · scorecard(x)`` (log-odds of bad; ``w`` is 1 for a pure GBM,
  0 for a pure scorecard);
* ``score = offset − factor · logit`` — for a pure scorecard this is exactly the points sum;
* ``pd = calibrator(logit)`` is non-decreasing in the logit, so higher score ⇔ lower PD;
* adverse reasons are the features with the largest positive contribution to the log-odds of bad
  (scorecard point deficits and/or LightGBM path attributions, weighted like the blend).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import lightgbm as lgb
import numpy as np

from xindai.kernel import InvariantViolation
from xindai.scoring import gbm as gbm_mod
from xindai.scoring.calibration import Calibrator
from xindai.scoring.frame import FloatArray, Schema
from xindai.scoring.scale import Scale
from xindai.scoring.scorecard import Scorecard
from xindai.scoring.spec import DatasetSpec
from xindai.scoring.trees import Ensemble


@dataclass(frozen=True)
class CreditModel:
    schema: Schema
    spec: DatasetSpec
    scorecard: Scorecard | None
    booster: lgb.Booster | None
    weight: float
    calibrator: Calibrator
    scale: Scale

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise InvariantViolation(f"blend weight {self.weight} outside [0, 1]")
        if self.weight > 0 and self.booster is None:
            raise InvariantViolation("a GBM weight without a booster")
        if self.weight < 1 and self.scorecard is None:
            raise InvariantViolation("a scorecard weight without a scorecard")

    @cached_property
    def ensemble(self) -> Ensemble | None:
        """The booster parsed for exact path attributions (None without a GBM)."""
        if self.booster is None:
            return None
        return Ensemble(gbm_mod.to_text(self.booster), len(self.schema.names))

    @property
    def kind(self) -> str:
        if self.weight >= 1.0:
            return "gbm"
        if self.weight <= 0.0:
            return "scorecard"
        return "blend"

    def logit(self, x: FloatArray) -> FloatArray:
        out = np.zeros(x.shape[0])
        if self.weight > 0 and self.booster is not None:
            out += self.weight * gbm_mod.raw_logit(self.booster, x)
        if self.weight < 1 and self.scorecard is not None:
            out += (1.0 - self.weight) * self.scorecard.logit(x)
        return out

    def pd(self, x: FloatArray) -> FloatArray:
        return self.calibrator(self.logit(x))

    def score(self, x: FloatArray) -> FloatArray:
        return self.scale.points(self.logit(x))

    def adverse(self, x: FloatArray) -> FloatArray:
        """Adverse contribution (log-odds of bad) per schema feature, shape ``(n, k)``."""
        k = len(self.schema.names)
        out = np.zeros((x.shape[0], k))
        if self.weight > 0 and self.ensemble is not None:
            out += self.weight * self.ensemble.explain(x)[1]
        if self.weight < 1 and self.scorecard is not None:
            out += (1.0 - self.weight) * self.scorecard.deficits(x, k)
        return out

    def reasons(self, x: FloatArray, top: int = 3) -> list[list[int]]:
        """Indices of the top adverse features per row (only strictly adverse ones)."""
        contrib = self.adverse(x)
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
        return [[int(j) for j in row if contrib[i, j] > 1e-9] for i, row in enumerate(order)]

    def importance(self) -> dict[str, float]:
        """Share of importance per feature: GBM gain and/or scorecard IV, blended like the model."""
        k = len(self.schema.names)
        total = np.zeros(k)
        if self.weight > 0 and self.booster is not None:
            gain = gbm_mod.importance(self.booster)
            total += self.weight * gain / max(gain.sum(), 1e-12)
        if self.weight < 1 and self.scorecard is not None:
            iv = np.zeros(k)
            for t in self.scorecard.tables:
                iv[t.index] = t.iv
            total += (1 - self.weight) * iv / max(iv.sum(), 1e-12)
        return {n: float(v) for n, v in zip(self.schema.names, total, strict=True)}
