"""The decision path: load a model artefact once, then score applications fast.

``Scorer.score(application)`` takes one application as a mapping of column → value and returns the
PD, the score and the adverse reasons, without pandas: derived features, category lookups, scorecard
bins and the LightGBM call are all done on one small NumPy row. ``Scorer.score_frame`` does the same
for a whole table (vectorised; identical results row by row).

Invariants:
* columns the model never saw are ignored; absent values, unparseable numbers and unseen categories
  are scored as missing;
* a feature of the ``sensitive`` data category (GPS, financial accounts…) is used only when the
  borrower gave separate consent (PIPL Art. 29); without it the value is withheld — scored as
  missing — and the decision lists it in ``withheld``;
* ``pd`` is in (0, 1) and decreasing in ``score``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from xindai.scoring import gbm as gbm_mod
from xindai.scoring.artefact import LoadedModel, load_model
from xindai.scoring.explain import Reason, make_reason
from xindai.scoring.frame import FloatArray, add_derived, category_text, encode
from xindai.scoring.model import ADVERSE_EPS, top_adverse
from xindai.scoring.numbers import number_from_text
from xindai.scoring.spec import DataCategory, FeatureKind


@dataclass(frozen=True)
class Decision:
    pd: float
    score: float
    reasons: list[Reason]
    withheld: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "pd": self.pd,
            "score": self.score,
            "reasons": [r.to_dict() for r in self.reasons],
            "withheld": list(self.withheld),
        }


def _number(value: object) -> float:
    # the decision path calls this for every field of every application: plain floats (what
    # JSON and pandas records hold) take the one-comparison route
    if type(value) is float:
        return value if value - value == 0.0 else math.nan
    if type(value) is int:
        return float(value)
    if value is None or isinstance(value, bool):
        return math.nan if value is None else float(value)
    if isinstance(value, int | float):
        v = float(value)
        return v if math.isfinite(v) else math.nan
    # text as the batch path reads it ("10.65%", "36 months", "2011-12-01", …)
    return number_from_text(str(value))


def _derive_scalar(op: str, vals: Sequence[float]) -> float:
    present = [v for v in vals if not math.isnan(v)]
    if op == "ratio":
        a, b = vals
        return a / b if b > 0 and not math.isnan(a) else math.nan
    if op == "diff":
        return vals[0] - vals[1]
    if op == "count_positive":
        return float(sum(1 for v in present if v > 0)) if present else math.nan
    if not present:
        return math.nan
    if op == "sum":
        return float(sum(present))
    if op == "mean":
        return float(sum(present) / len(present))
    if op == "max":
        return float(max(present))
    return float(min(present))


class Scorer:
    """Score applications with one loaded model. Construct once; ``score`` is cheap."""

    def __init__(self, loaded: LoadedModel, top_reasons: int = 3) -> None:
        self.loaded = loaded
        self.model = loaded.model
        self.top = top_reasons
        schema = self.model.schema
        spec = self.model.spec
        self._names = list(schema.names)
        self._kinds = list(schema.kinds)
        self._lookups = schema.lookup()
        self._derived = [(f.name, f.derive) for f in spec.features if f.derive is not None]
        self._sensitive = frozenset(
            f.name for f in spec.features if f.category is DataCategory.SENSITIVE
        )
        # raw inputs a sensitive derived feature depends on are sensitive too
        self._sensitive_inputs = frozenset(
            c for name, how in self._derived if name in self._sensitive for c in how.columns
        )
        sc = self.model.scorecard
        self._card = []
        if sc is not None and self.model.w("scorecard") > 0:
            for t in sc.tables:
                lut = (
                    dict(enumerate(t.code_to_bin().tolist()))
                    if t.kind is FeatureKind.CATEGORICAL
                    else None
                )
                best = max((*t.points, t.missing_points))
                self._card.append(
                    (t.index, list(t.splits), lut, list(t.points), t.missing_points, best)
                )
        self._w_gbm = self.model.w("gbm")
        self._w_card = self.model.w("scorecard")
        self._w_lin = self.model.w("linear")
        self._ensemble = self.model.ensemble if self._w_gbm > 0 else None
        lin = self.model.linear
        self._terms = list(lin.terms) if lin is not None and self._w_lin > 0 else []
        self._intercept = lin.intercept if lin is not None else 0.0
        # scale constants read once: the properties recompute a logarithm on every access
        self._factor = self.model.scale.factor
        if sc is not None:
            self._card_factor = sc.scale.factor
            self._card_offset = sc.scale.offset
            self._card_base = sc.base_points

    @classmethod
    def load(cls, directory: str | Path, top_reasons: int = 3) -> Scorer:
        return cls(load_model(directory), top_reasons)

    @property
    def sensitive_features(self) -> frozenset[str]:
        return self._sensitive

    def _row(
        self, app: Mapping[str, object], consent: bool
    ) -> tuple[FloatArray, list[object], list[str]]:
        withheld: list[str] = []
        values: dict[str, float] = {}
        raw: list[object] = []
        get = app.get
        for name, how in self._derived:
            if name in self._sensitive and not consent:
                continue
            ins = [values[c] if c in values else _number(get(c)) for c in how.columns]
            values[name] = _derive_scalar(how.op, ins)
        row = np.empty(len(self._names))
        for j, name in enumerate(self._names):
            if name in self._sensitive and not consent:
                v = get(name)
                if name in values or (v is not None and v == v):
                    withheld.append(name)
                row[j] = math.nan
                raw.append(None)
                continue
            lookup = self._lookups[j]
            if name in values:
                row[j] = values[name]
                raw.append(values[name])
            elif lookup is None:
                v = get(name)
                row[j] = _number(v)
                raw.append(v)
            else:
                v = get(name)
                code = lookup.get(category_text(v) or "")
                row[j] = math.nan if code is None else float(code)
                raw.append(v)
        return row, raw, withheld

    def score(
        self, application: Mapping[str, object], *, consent_sensitive: bool = False
    ) -> Decision:
        """PD, score and top adverse reasons for one application."""
        row, raw, withheld = self._row(application, consent_sensitive)
        k = len(self._names)
        contrib = [0.0] * k
        logit = 0.0
        if self._ensemble is not None:
            raw_gbm, attributions = self._ensemble.explain_row(row.tolist())
            logit += self._w_gbm * raw_gbm
            for j in range(k):
                contrib[j] += self._w_gbm * attributions[j]
        if self._card:
            total = self._card_base
            card_factor = self._card_factor
            for j, splits, lut, pts, miss, best in self._card:
                v = row[j]
                if v != v:
                    p = miss
                elif lut is None:
                    p = pts[bisect_right(splits, v)]
                else:
                    b = lut.get(int(v), len(pts))
                    p = pts[b] if b < len(pts) else miss
                total += p
                contrib[j] += self._w_card * (best - p) / card_factor
            logit += self._w_card * (self._card_offset - total) / card_factor
        if self._terms:
            lin_total = self._intercept
            for term in self._terms:
                value = term.value(row[term.index])
                lin_total += value
                contrib[term.index] += self._w_lin * (value - term.centre)
            logit += self._w_lin * lin_total
        pd_ = float(self.model.calibrator(np.array([logit]))[0])
        score = float(self.model.scale.points(np.array([logit]))[0])
        order = sorted(range(k), key=lambda j: -contrib[j])[: self.top]
        factor = self._factor
        reasons = [
            make_reason(self.model.spec, self._names[j], self._kinds[j], raw[j], contrib[j], factor)
            for j in order
            if contrib[j] > ADVERSE_EPS
        ]
        return Decision(pd=pd_, score=score, reasons=reasons, withheld=withheld)

    def encode_frame(
        self, df: pd.DataFrame, *, consent: bool | Sequence[bool] = False
    ) -> FloatArray:
        """The model matrix for a table (sensitive columns blanked where consent is missing)."""
        frame = add_derived(df, self.model.spec)
        x = encode(frame, self.model.schema)
        mask = np.asarray(consent, dtype=bool)
        if mask.ndim == 0:
            mask = np.full(len(df), bool(mask))
        for j, name in enumerate(self._names):
            if name in self._sensitive:
                x[~mask, j] = np.nan
        return x

    def score_frame(
        self,
        df: pd.DataFrame,
        *,
        consent: bool | Sequence[bool] = False,
        reasons: bool = True,
        threads: int | None = None,
    ) -> pd.DataFrame:
        """Columns ``pd``, ``score`` and ``reasons`` (features separated by ``;``), in input order.

        ``threads`` (default: the cores this process may use) spreads the LightGBM scoring of a
        large batch over threads; the values do not depend on it."""
        x = self.encode_frame(df, consent=consent)
        threads = gbm_mod.available_cores() if threads is None else threads
        if reasons:
            logit, adverse = self.model.logit_and_adverse(x, threads)
        else:
            logit = self.model.logit(x, threads)
        out = pd.DataFrame(
            {"pd": self.model.calibrator(logit), "score": self.model.scale.points(logit)},
            index=df.index,
        )
        if reasons:
            out["reasons"] = reason_texts(self._names, adverse, self.top)
        return out


def reason_texts(names: Sequence[str], adverse: FloatArray, top: int) -> npt.NDArray[np.object_]:
    """``"f1;f2;f3"`` per row — the names of the top adverse features (``top_adverse``). A batch
    holds few distinct reason lists, so each distinct one is joined once and the rows take theirs
    by index; when the one-integer key per list would overflow, the rows are joined one by one."""
    idx, count = top_adverse(adverse, top)
    k = len(names)
    if (idx.shape[1] + 1) * k ** idx.shape[1] >= 2**62:
        return np.asarray(
            [";".join(names[j] for j in row[:c]) for row, c in zip(idx, count, strict=True)],
            dtype=object,
        )
    key = count.copy()  # (count, idx_0, …, idx_top-1) as one integer per row
    for r in range(idx.shape[1]):
        key = key * k + np.where(count > r, idx[:, r], 0)
    distinct, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    texts = np.empty(distinct.shape[0], dtype=object)
    for u, i in enumerate(first):
        texts[u] = ";".join(names[j] for j in idx[i, : count[i]])
    return np.asarray(texts[inverse.ravel()], dtype=object)
