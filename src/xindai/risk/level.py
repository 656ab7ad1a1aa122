"""The breathing risk level: evidence raises a per-subject score that decays with a half-life.

``score(t) = score(t0) * 0.5 ** ((t - t0) / half_life)``; each scored event adds its risk points
(capped at ``max_score``); good behaviour (an on-time repayment) subtracts ``good_credit``. The
level is L1..L5 by ``thresholds`` (ascending lower bounds of L2..L5). The credit side reads the level.

Invariants: the score is never negative and never exceeds ``max_score``; without new evidence it is
non-increasing in time; the decay of a gap does not depend on how it is split (exponential decay
composes: ``decay(a) * decay(b) == decay(a + b)``), so replaying the same events in any batching
gives the same level.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LevelPolicy:
    """Configuration of the breathing level."""

    half_life_s: float = 7 * 86400.0
    thresholds: tuple[float, float, float, float] = (10.0, 25.0, 45.0, 70.0)
    max_score: float = 100.0
    good_credit: float = 5.0

    def __post_init__(self) -> None:
        if self.half_life_s <= 0:
            raise ValueError("half_life_s must be positive")
        if list(self.thresholds) != sorted(self.thresholds) or self.thresholds[0] <= 0:
            raise ValueError("thresholds must be positive and ascending")

    def level_of(self, score: float) -> int:
        level = 1
        for bound in self.thresholds:
            if score >= bound:
                level += 1
        return level


class LevelState:
    """One subject's score and the instant it was last brought up to date."""

    __slots__ = ("score", "ts")

    def __init__(self, score: float = 0.0, ts: float = 0.0) -> None:
        self.score = score
        self.ts = ts

    def dump(self) -> list[float]:
        return [self.score, self.ts]


def decayed(policy: LevelPolicy, state: LevelState, ts: float) -> float:
    """The score at ``ts`` (an earlier ``ts`` — a late event — sees the current score)."""
    if ts <= state.ts or state.score == 0.0:
        return state.score
    factor: float = 0.5 ** ((ts - state.ts) / policy.half_life_s)
    return state.score * factor


def apply_evidence(policy: LevelPolicy, state: LevelState, ts: float, points: float) -> float:
    """Decay to ``ts``, then add ``points`` (negative for good behaviour); returns the new score."""
    score = decayed(policy, state, ts) + points
    state.score = min(policy.max_score, max(0.0, score))
    if ts > state.ts:
        state.ts = ts
    return state.score
