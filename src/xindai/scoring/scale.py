"""The points scale: score = offset + factor · ln(odds good:bad).

Defaults follow industry practice: 600 points at odds 50:1 and 20 points to double the odds (PDO).
Invariant: ``factor = pdo / ln 2`` and ``offset = base_score − factor · ln(base_odds)``, so a model's
log-odds of *bad* ``z`` maps to ``offset − factor · z`` — higher scores always mean lower risk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from xindai.kernel import ValidationError


@dataclass(frozen=True, slots=True)
class Scale:
    pdo: float = 20.0
    base_score: float = 600.0
    base_odds: float = 50.0

    def __post_init__(self) -> None:
        if not self.pdo > 0:
            raise ValidationError("pdo", "must be positive")
        if not self.base_odds > 0:
            raise ValidationError("base_odds", "must be positive")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def points(self, logit_bad: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return self.offset - self.factor * logit_bad

    def logit(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return (self.offset - points) / self.factor

    def to_dict(self) -> dict[str, float]:
        return {"pdo": self.pdo, "base_score": self.base_score, "base_odds": self.base_odds}
