"""Adverse-action reasons: why an applicant's score is what it is, in zh-CN and English.

The basis of the borrower's right to an explanation (PIPL Art. 24): for each applicant the top
features that pushed the estimated risk *up* — scorecard point deficits (points short of the
feature's best bin) and/or LightGBM SHAP contributions — named with the spec's labels.
Invariant: a reason is only given for a strictly adverse contribution; a feature that helped the
applicant is never presented as a reason for a worse score.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xindai.scoring.spec import DatasetSpec, FeatureKind


@dataclass(frozen=True, slots=True)
class Reason:
    feature: str
    value: object
    contribution: float  # log-odds of bad added by this feature (> 0)
    points: float  # the same, in score points lost
    text_en: str
    text_zh: str

    def to_dict(self) -> dict[str, object]:
        return {
            "feature": self.feature,
            "value": self.value,
            "contribution": round(self.contribution, 6),
            "points": round(self.points, 2),
            "en": self.text_en,
            "zh": self.text_zh,
        }


def _shown(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if not value.is_integer() else f"{int(value):,}"
    return str(value)


def make_reason(
    spec: DatasetSpec, name: str, kind: FeatureKind, value: object, contribution: float,
    factor: float,
) -> Reason:  # fmt: skip
    try:
        f = spec.feature(name)
        en, zh = f.label("en"), f.label("zh")
    except LookupError:
        en = zh = name
    shown = _shown(value)
    if shown:
        text_en = f"{en}: {shown} — raises the estimated risk"
        text_zh = f"{zh}：{shown}，推高了风险评估"
    else:
        text_en = f"{en}: not provided — scored as missing, which raises the estimated risk"
        text_zh = f"{zh}：未提供（按缺失处理），推高了风险评估"
    return Reason(
        feature=name,
        value=None if not shown else value,
        contribution=contribution,
        points=contribution * factor,
        text_en=text_en,
        text_zh=text_zh,
    )
