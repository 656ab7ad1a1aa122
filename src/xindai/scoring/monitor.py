"""Monitoring: population stability of every input and of the score against training.

``monitor(loaded, frame)`` bins new data with the edges stored at training time and reports the PSI
per feature and for the score, with the industry thresholds: below 0.10 stable, 0.10–0.25 warn,
0.25 and above alarm. Invariant: the bins are the training bins — the same edges on both sides — plus
one bin for missing values, so a feature that starts arriving empty raises an alarm too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from xindai.kernel import ValidationError
from xindai.scoring import metrics as m
from xindai.scoring.artefact import LoadedModel
from xindai.scoring.scorer import Scorer


def monitor(loaded: LoadedModel, frame: pd.DataFrame) -> dict[str, Any]:
    if frame.empty:
        raise ValidationError("data", "no rows to monitor")
    ref = loaded.reference
    if not ref:
        raise ValidationError("model", f"{loaded.path} has no reference.json to monitor against")
    scorer = Scorer(loaded)
    x = scorer.encode_frame(frame, consent=True)
    names = list(loaded.model.schema.names)
    features = []
    for j, name in enumerate(names):
        r = ref["features"][name]
        edges = np.asarray(r["edges"], dtype=np.float64)
        shares = m.bin_shares(x[:, j], edges)
        value = m.psi_from_shares(np.asarray(r["shares"], dtype=np.float64), shares)
        features.append({"feature": name, "psi": value, "level": m.psi_level(value),
                         "missing_share": float(np.isnan(x[:, j]).mean())})  # fmt: skip
    score = loaded.model.score(x)
    s_edges = np.asarray(ref["score"]["edges"], dtype=np.float64)
    s_value = m.psi_from_shares(
        np.asarray(ref["score"]["shares"], dtype=np.float64), m.bin_shares(score, s_edges)
    )
    features.sort(key=lambda f: -float(f["psi"]))  # type: ignore[arg-type]
    alarms = [f["feature"] for f in features if f["level"] == "alarm"]
    warns = [f["feature"] for f in features if f["level"] == "warn"]
    return {
        "rows": len(frame),
        "thresholds": {"warn": m.PSI_WARN, "alarm": m.PSI_ALARM},
        "score": {"psi": s_value, "level": m.psi_level(s_value)},
        "features": features,
        "alarms": alarms,
        "warnings": warns,
        "status": "alarm"
        if alarms or s_value >= m.PSI_ALARM
        else ("warn" if warns or s_value >= m.PSI_WARN else "stable"),
    }
