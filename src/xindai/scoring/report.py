"""A self-contained HTML model report for a risk committee (inline SVG, no scripts, no network).

Sections: summary (protocol, AUC, KS, Gini, Brier, log loss, calibration method), ROC curve, KS
(bad vs good cumulative score distributions), score distribution, calibration (predicted vs observed
by decile), lift and bad rate by decile, bad rate at fixed approval rates, PSI train vs test, the
segment table with flagged segments, feature importance, and the scorecard points table.
Invariant: every figure shown is read from the model's stored out-of-fold evaluation (or from
``evaluation`` passed in), never recomputed in-sample.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from xindai.scoring.artefact import LoadedModel

W, H, PAD = 360, 240, 36


def _esc(v: object) -> str:
    return html.escape(str(v))


def _polyline(
    xs: Sequence[float], ys: Sequence[float], x_max: float, y_max: float, colour: str
) -> str:
    pts = " ".join(
        f"{PAD + (W - 2 * PAD) * x / x_max:.1f},{H - PAD - (H - 2 * PAD) * y / y_max:.1f}"
        for x, y in zip(xs, ys, strict=True)
    )
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>'


def _frame(title: str, body: str, x_label: str, y_label: str) -> str:
    return (
        f'<figure><svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
        f'aria-label="{_esc(title)}"><rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" '
        f'height="{H - 2 * PAD}" fill="#fafafa" stroke="#999"/>{body}'
        f'<text x="{W / 2}" y="{H - 6}" text-anchor="middle" font-size="11">{_esc(x_label)}</text>'
        f'<text x="10" y="{H / 2}" font-size="11" transform="rotate(-90 10 {H / 2})" '
        f'text-anchor="middle">{_esc(y_label)}</text></svg><figcaption>{_esc(title)}</figcaption>'
        f"</figure>"
    )


def _bars(
    values: Sequence[float], colour: str, y_max: float, offset: float = 0.0, width: float = 0.8
) -> str:
    n = max(len(values), 1)
    step = (W - 2 * PAD) / n
    out = []
    for i, v in enumerate(values):
        h = (H - 2 * PAD) * (v / y_max if y_max else 0)
        x = PAD + step * (i + offset) + step * (1 - width) / 2
        out.append(
            f'<rect x="{x:.1f}" y="{H - PAD - h:.1f}" width="{step * width:.1f}" height="{h:.1f}" '
            f'fill="{colour}" fill-opacity="0.7"/>'
        )
    return "".join(out)


def _table(rows: Sequence[dict[str, Any]], cols: Sequence[tuple[str, str, str]]) -> str:
    head = "".join(f"<th>{_esc(title)}</th>" for _, title, _ in cols)
    body = []
    for r in rows:
        cls = ' class="flag"' if r.get("flag") else ""
        cells = "".join(f"<td>{format(r.get(k, ''), fmt) if fmt and r.get(k) is not None else _esc(r.get(k, ''))}</td>"
                        for k, _, fmt in cols)  # fmt: skip
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


CSS = """
body{font-family:system-ui,'Noto Sans SC',sans-serif;max-width:1100px;margin:2em auto;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}td,th{border:1px solid #ccc;
padding:2px 6px;text-align:right}th{background:#eee}tr.flag td{background:#fde2e2}
figure{display:inline-block;margin:.5em}.kpi{display:inline-block;margin:0 1.5em .5em 0}
.kpi b{display:block;font-size:1.4em}.note{color:#555;font-size:.85em}
"""


def render_report(loaded: LoadedModel, evaluation: dict[str, Any] | None = None) -> str:
    mt = evaluation or loaded.metrics
    prov = loaded.provenance
    model = loaded.model
    spec = model.spec
    parts = [
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>Model report "
        f"{_esc(spec.name)}</title><style>{CSS}</style></head><body>",
        f"<h1>信用评分模型报告 · Credit model report — {_esc(spec.title_en or spec.name)}</h1>",
        f"<p class='note'>Kind: <b>{_esc(model.kind)}</b> (blend weights: {_esc(', '.join(f'{k} {v:.1f}' for k, v in model.weights.items()))}); "
        f"calibration: {_esc(model.calibrator.kind)}; trained {_esc(prov.get('trained_at', ''))} on "
        f"{_esc(prov.get('rows', ''))} rows; data SHA-256 <code>{_esc(prov.get('data_sha256', ''))}"
        f"</code>.<br>Protocol: {_esc(mt.get('protocol', ''))}.</p>",
    ]
    kpis = [("AUC", "auc", ".3f"), ("KS", "ks", ".3f"), ("Gini", "gini", ".3f"),
            ("Brier", "brier", ".4f"), ("Log loss", "log_loss", ".4f"), ("Bad rate", "bad_rate", ".1%")]  # fmt: skip
    parts.append("<div>" + "".join(
        f"<span class='kpi'>{name}<b>{format(mt[k], f)}</b></span>" for name, k, f in kpis if k in mt
    ) + "</div>")  # fmt: skip
    if "candidate_auc" in mt:
        parts.append("<p class='note'>Out-of-fold AUC per candidate: " + ", ".join(
            f"{_esc(k)} {v:.4f}" for k, v in mt["candidate_auc"].items()) + "</p>")  # fmt: skip

    parts.append("<h2>Discrimination · 区分能力</h2>")
    roc = mt.get("roc", {})
    if roc:
        diag = _polyline([0, 1], [0, 1], 1, 1, "#bbb")
        parts.append(_frame("ROC curve", diag + _polyline(roc["fpr"], roc["tpr"], 1, 1, "#c0392b"),
                            "false-positive rate", "true-positive rate"))  # fmt: skip
        n = len(roc["fpr"])
        xs = [i / max(n - 1, 1) for i in range(n)]
        ks_body = _polyline(xs, roc["tpr"], 1, 1, "#c0392b") + _polyline(
            xs, roc["fpr"], 1, 1, "#2e86c1"
        )
        parts.append(_frame(f"KS: cumulative bad (red) vs good (blue), KS = {mt.get('ks', 0):.3f}",
                            ks_body, "threshold (riskiest first)", "cumulative share"))  # fmt: skip
    hist = mt.get("score_hist")
    if hist:
        good = [g / max(sum(hist["good"]), 1) for g in hist["good"]]
        bad = [b / max(sum(hist["bad"]), 1) for b in hist["bad"]]
        top = max(good + bad + [1e-9])
        body = _bars(good, "#2e86c1", top, -0.15, 0.5) + _bars(bad, "#c0392b", top, 0.15, 0.5)
        parts.append(_frame(
            f"Score distribution, goods (blue) and bads (red), {hist['edges'][0]:.0f}–{hist['edges'][-1]:.0f}",
            body, "score", "share"))  # fmt: skip
    cal = mt.get("calibration_table")
    if cal:
        top = max(max(r["mean_pd"], r["bad_rate"]) for r in cal) or 1
        body = _polyline([0, top], [0, top], top, top, "#bbb") + _polyline(
            [r["mean_pd"] for r in cal], [r["bad_rate"] for r in cal], top, top, "#27ae60"
        )
        parts.append(_frame("Calibration: observed vs predicted bad rate by decile", body,
                            "predicted PD", "observed bad rate"))  # fmt: skip
    dec = mt.get("deciles")
    if dec:
        top = max(r["bad_rate"] for r in dec) or 1
        parts.append(_frame("Bad rate by risk decile (1 = riskiest)",
                            _bars([r["bad_rate"] for r in dec], "#8e44ad", top), "decile", "bad rate"))  # fmt: skip
        parts.append("<h2>Lift by decile · 分组提升</h2>" + _table(dec, [
            ("decile", "decile", ".0f"), ("n", "n", ".0f"), ("bads", "bads", ".0f"),
            ("bad_rate", "bad rate", ".2%"), ("mean_pd", "mean PD", ".2%"), ("lift", "lift", ".2f"),
            ("cum_bad_capture", "cum. bad capture", ".1%")]))  # fmt: skip
    if mt.get("approval"):
        parts.append("<h2>Bad rate at fixed approval rates · 固定通过率下的坏账率</h2>" + _table(
            mt["approval"], [("approval_rate", "approval rate", ".0%"), ("bad_rate", "bad rate among approved", ".2%")]))  # fmt: skip

    parts.append("<h2>Stability · 稳定性 (PSI)</h2>")
    if "psi_score_train_vs_test" in mt:
        parts.append(f"<p>Score PSI, training vs held-out folds (mean): "
                     f"<b>{mt['psi_score_train_vs_test']:.4f}</b> — warn at 0.10, alarm at 0.25.</p>")  # fmt: skip
    fpsi = mt.get("psi_features_train_vs_test") or {}
    if fpsi:
        rows = sorted(
            ({"feature": k, "psi": v} for k, v in fpsi.items() if v is not None),
            key=lambda r: -r["psi"],
        )
        parts.append(_table(rows[:15], [("feature", "feature", ""), ("psi", "PSI", ".4f")]))

    segs = mt.get("segments") or {}
    parts.append("<h2>Segments · 分群表现</h2><p class='note'>A segment is flagged (red) when n ≥ 30, "
                 "the gap between observed and predicted bad rate has |z| ≥ 3 against the predicted "
                 "rate, and the gap is at least 2 pp and 20% of the predicted rate. "
                 "<i>under-predicted</i> = riskier than the model believes — the “friend credit "
                 "score” failure.</p>")  # fmt: skip
    for col, rows in segs.items():
        label = spec.feature(col).label("en") if col in spec.feature_names else col
        parts.append(f"<h3>{_esc(label)} <code>{_esc(col)}</code></h3>" + _table(rows[:30], [
            ("segment", "segment", ""), ("n", "n", "d"), ("observed_bad_rate", "observed", ".2%"),
            ("predicted_bad_rate", "predicted", ".2%"), ("gap_pp", "gap (pp)", "+.2f"),
            ("z", "z", "+.1f"), ("flag", "flag", "")]))  # fmt: skip

    imp = mt.get("importance") or model.importance()
    rows = sorted(({"feature": k, "label": spec.feature(k).label("zh") if k in spec.feature_names else k,
                    "share": v} for k, v in imp.items()), key=lambda r: -r["share"])  # fmt: skip
    parts.append("<h2>Feature importance · 特征重要性</h2>" + _table(rows[:25], [
        ("feature", "feature", ""), ("label", "标签", ""), ("share", "share", ".1%")]))  # fmt: skip
    if model.scorecard is not None:
        sc = model.scorecard
        parts.append(f"<h2>Points table · 评分卡分值表</h2><p>Base points {sc.base_points:.1f}; "
                     f"scale: {sc.scale.base_score:.0f} points at odds {sc.scale.base_odds:.0f}:1, "
                     f"PDO {sc.scale.pdo:.0f}.</p>")  # fmt: skip
        for t in sc.tables:
            rows = [{"bin": lb, "n": c, "bad_rate": r, "woe": w, "points": p}
                    for lb, c, r, w, p in zip(t.labels, t.counts, t.bad_rates, t.woe, t.points, strict=False)]  # fmt: skip
            rows.append({"bin": "(missing / unseen)", "n": t.counts[-1] if t.counts else 0,
                         "bad_rate": t.bad_rates[-1] if t.bad_rates else 0,
                         "woe": t.missing_woe, "points": t.missing_points})  # fmt: skip
            parts.append(f"<h3>{_esc(t.feature)} (IV {t.iv:.3f})</h3>" + _table(rows, [
                ("bin", "bin", ""), ("n", "n", "d"), ("bad_rate", "bad rate", ".2%"),
                ("woe", "WOE", "+.3f"), ("points", "points", "+.1f")]))  # fmt: skip
    parts.append("</body></html>")
    return "\n".join(parts)
