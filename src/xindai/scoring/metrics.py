"""Model-quality metrics in plain NumPy: AUC, KS, Gini, Brier, log loss, deciles, approval-rate
bad rates, PSI, calibration and segment tables.

Conventions: ``y`` is 1 for bad, 0 for good; ``p`` (or any risk score) is larger for riskier rows.
Invariants: AUC equals scikit-learn's ``roc_auc_score`` (ties count one half); KS is the largest gap
between the bad and good cumulative distributions; every table lists its rows riskiest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

from xindai.kernel import ValidationError
from xindai.scoring.frame import FloatArray, IntArray

APPROVAL_RATES = (0.5, 0.6, 0.7, 0.8, 0.9)
PSI_WARN = 0.10
PSI_ALARM = 0.25


def _check(y: IntArray, s: FloatArray) -> None:
    if y.shape[0] != s.shape[0]:
        raise ValidationError("y", f"{y.shape[0]} labels for {s.shape[0]} scores")
    if y.shape[0] == 0:
        raise ValidationError("y", "no rows")


def auc(y: IntArray, s: FloatArray) -> float:
    _check(y, s)
    n_bad = int(y.sum())
    n_good = y.shape[0] - n_bad
    if n_bad == 0 or n_good == 0:
        raise ValidationError("y", "AUC needs both good and bad rows")
    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good))


def roc_points(y: IntArray, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """False- and true-positive rates at every distinct threshold (from (0,0) to (1,1))."""
    _check(y, s)
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    distinct = np.r_[np.nonzero(np.diff(ss))[0], ys.shape[0] - 1]
    tps = np.cumsum(ys)[distinct]
    fps = (distinct + 1) - tps
    tpr = np.r_[0.0, tps / max(tps[-1], 1)]
    fpr = np.r_[0.0, fps / max(fps[-1], 1)]
    return fpr.astype(np.float64), tpr.astype(np.float64)


def ks(y: IntArray, s: FloatArray) -> float:
    fpr, tpr = roc_points(y, s)
    return float(np.max(np.abs(tpr - fpr)))


def gini(y: IntArray, s: FloatArray) -> float:
    return 2.0 * auc(y, s) - 1.0


def brier(y: IntArray, p: FloatArray) -> float:
    _check(y, p)
    return float(np.mean((p - y) ** 2))


def log_loss(y: IntArray, p: FloatArray, eps: float = 1e-15) -> float:
    _check(y, p)
    q = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def summary(y: IntArray, p: FloatArray) -> dict[str, float]:
    return {
        "auc": auc(y, p),
        "ks": ks(y, p),
        "gini": gini(y, p),
        "brier": brier(y, p),
        "log_loss": log_loss(y, p),
        "bad_rate": float(y.mean()),
        "n": float(y.shape[0]),
    }


def deciles(y: IntArray, p: FloatArray, n_groups: int = 10) -> list[dict[str, float]]:
    """Rows sorted riskiest first, cut into ``n_groups`` equal groups: bad rate, lift, capture."""
    _check(y, p)
    order = np.argsort(-p, kind="stable")
    groups = np.array_split(order, n_groups)
    overall = max(float(y.mean()), 1e-12)
    total_bad = max(int(y.sum()), 1)
    rows, captured = [], 0
    for i, g in enumerate(groups, start=1):
        if g.size == 0:
            continue
        bads = int(y[g].sum())
        captured += bads
        rows.append(
            {
                "decile": float(i),
                "n": float(g.size),
                "bads": float(bads),
                "bad_rate": bads / g.size,
                "mean_pd": float(p[g].mean()),
                "lift": (bads / g.size) / overall,
                "cum_bad_capture": captured / total_bad,
            }
        )
    return rows


def bad_rate_at_approval(y: IntArray, p: FloatArray, rate: float) -> float:
    """Bad rate among the ``rate`` share of rows with the lowest risk (the approved)."""
    _check(y, p)
    if not 0 < rate <= 1:
        raise ValidationError("approval_rate", "must be in (0, 1]")
    k = max(1, round(rate * y.shape[0]))
    approved = np.argsort(p, kind="stable")[:k]
    return float(y[approved].mean())


def approval_table(
    y: IntArray, p: FloatArray, rates: Sequence[float] = APPROVAL_RATES
) -> list[dict[str, float]]:
    return [{"approval_rate": r, "bad_rate": bad_rate_at_approval(y, p, r)} for r in rates]


def psi_bins(reference: FloatArray, n_bins: int = 10) -> FloatArray:
    """Interior quantile edges of the reference values (missing values excluded)."""
    present = reference[~np.isnan(reference)]
    if present.size == 0:
        return np.zeros(0)
    # interpolating between values near ±1e308 overflows: such an edge is dropped (neighbouring
    # bins merge), so edges stay finite for searchsorted and for the JSON reference
    with np.errstate(over="ignore", invalid="ignore"):
        qs = np.quantile(present, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.unique(qs[np.isfinite(qs)])


def bin_shares(values: FloatArray, edges: FloatArray) -> FloatArray:
    """Share of values per bin: ``len(edges)+1`` numeric bins, then one bin for missing."""
    idx = np.full(values.shape[0], edges.shape[0] + 1, dtype=np.int64)
    present = ~np.isnan(values)
    idx[present] = np.searchsorted(edges, values[present], side="right")
    counts = np.bincount(idx, minlength=edges.shape[0] + 2).astype(np.float64)
    return np.asarray(counts / max(values.shape[0], 1), dtype=np.float64)


def psi_from_shares(expected: FloatArray, actual: FloatArray, floor: float = 1e-4) -> float:
    e = np.maximum(expected, floor)
    a = np.maximum(actual, floor)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(expected: FloatArray, actual: FloatArray, n_bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` (quantile bins of expected)."""
    edges = psi_bins(expected, n_bins)
    return psi_from_shares(bin_shares(expected, edges), bin_shares(actual, edges))


def psi_level(value: float) -> str:
    if value >= PSI_ALARM:
        return "alarm"
    if value >= PSI_WARN:
        return "warn"
    return "stable"


def calibration_table(y: IntArray, p: FloatArray, n_groups: int = 10) -> list[dict[str, float]]:
    order = np.argsort(p, kind="stable")
    out = []
    for g in np.array_split(order, n_groups):
        if g.size:
            out.append(
                {"n": float(g.size), "mean_pd": float(p[g].mean()), "bad_rate": float(y[g].mean())}
            )
    return out


#: A segment is flagged when it is big enough, the gap is statistically clear, and material.
SEGMENT_MIN_N = 30
SEGMENT_MIN_Z = 3.0
SEGMENT_MIN_ABS = 0.02
SEGMENT_MIN_REL = 0.20


def segment_table(
    segments: Sequence[str | None], y: IntArray, p: FloatArray
) -> list[dict[str, Any]]:
    """Observed vs predicted bad rate per segment, flagging the segments the model misjudges.

    Flag rule: ``n ≥ 30`` and the binomial z-score of the gap (observed − predicted, against the
    predicted rate) is at least 3 in size and the gap is at least 2 pp and 20% of the predicted
    rate. "under-predicted" (riskier than the model believes) is the friend-credit-score failure.
    """
    labels = np.array(["(missing)" if s is None else str(s) for s in segments], dtype=object)
    rows: list[dict[str, Any]] = []
    for seg in sorted(set(labels.tolist())):
        mask = labels == seg
        n = int(mask.sum())
        observed = float(y[mask].mean())
        predicted = float(p[mask].mean())
        gap = observed - predicted
        var = max(predicted * (1 - predicted), 1e-9)
        z = gap / np.sqrt(var / n)
        flagged = (
            n >= SEGMENT_MIN_N
            and abs(z) >= SEGMENT_MIN_Z
            and abs(gap) >= max(SEGMENT_MIN_ABS, SEGMENT_MIN_REL * predicted)
        )
        rows.append(
            {
                "segment": seg,
                "n": n,
                "observed_bad_rate": observed,
                "predicted_bad_rate": predicted,
                "gap_pp": 100 * gap,
                "z": float(z),
                "flag": ("under-predicted" if gap > 0 else "over-predicted") if flagged else "",
            }
        )
    rows.sort(key=lambda r: -r["n"])
    return rows
