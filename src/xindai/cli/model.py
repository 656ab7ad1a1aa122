"""``xindai model …``: train, score, compare, explain, report, monitor, and the model registry.

Exit status 0 on success; bad input (missing target, non-binary target, empty file, all-missing
column, prohibited feature, a directory that is not a model, …) prints one line ``error: …`` on
stderr and exits 2. ``--json`` switches machine-readable output to stdout.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pandas as pd
import typer

from xindai.cli.common import fail
from xindai.kernel import DomainError, ValidationError
from xindai.scoring import (
    Registry,
    Scorer,
    TrainConfig,
    TrainResult,
    compare_groups,
    load_model,
    load_spec,
    load_training_data,
    monitor,
    render_report,
    save_model,
    train,
)
from xindai.scoring.frame import read_table
from xindai.scoring.training import prepare_frame

app = typer.Typer(
    help="Credit models: train, score, compare feature groups, explain, report, monitor, promote.",
    no_args_is_help=True,
    add_completion=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> NoReturn:
    """``error: <field>: <reason>`` as one line on stderr (a column name or a path may hold a line
    break; scripts read one line), then exit status 2 — ``common.fail``."""
    fail(f"error: {message}")


def guarded(func: F) -> F:
    """Map domain and file errors to a one-line message and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ValidationError as exc:
            _fail(f"{exc.field}: {exc.reason}")
        except DomainError as exc:
            _fail(str(exc) or exc.__class__.__name__)
        except OSError as exc:
            _fail(f"{exc.filename or 'file'}: {exc.strerror or exc.__class__.__name__}")

    return wrapper  # type: ignore[return-value]


def _check_out_dir(out: Path) -> None:
    """Refuse, before any training, a ``--out`` that cannot become a model directory."""
    if out.exists() and not out.is_dir():
        raise ValidationError("out", f"{out} exists and is not a directory")


def _save_whole(result: TrainResult, out: Path) -> None:
    """Write the model into a fresh sibling directory, then move it into place: if writing fails
    part-way (a full disk, a value JSON cannot hold), no half-written model directory is left at
    ``out``. Into an existing directory the files are moved one by one, ``model.json`` last (what
    ``load_model`` reads first), and other files there are left alone."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        save_model(result, staging)
        if not out.exists():
            staging.rename(out)
            return
        names = sorted(p.name for p in staging.iterdir())
        for name in [n for n in names if n != "model.json"] + ["model.json"]:
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _say(quiet: bool) -> Callable[[str], None]:
    def say(msg: str) -> None:
        if not quiet:
            typer.echo(msg, err=True)

    return say


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, default=float)


@app.command("train")
@guarded
def train_cmd(
    data: Path = typer.Option(..., "--data", help="Training CSV."),
    target: str = typer.Option(None, "--target", help="Target column (default: from the spec)."),
    bad_value: str = typer.Option(None, "--bad-value", help="Target value meaning bad."),
    spec: str = typer.Option(None, "--spec", help="Dataset spec YAML, or a shipped spec name."),
    kind: str = typer.Option(
        "auto",
        "--kind",
        help="auto (blend of scorecard, LightGBM profiles and piecewise-linear logistic "
        "regression, weights chosen by out-of-fold AUC) | gbm | scorecard",
    ),
    out: Path = typer.Option(..., "--out", help="Model directory to write."),
    folds: int = typer.Option(5, "--folds"),
    seed: int = typer.Option(42, "--seed"),
    date_column: str = typer.Option(
        None,
        "--date-column",
        help="Out-of-time split on this column: the latest 20% of rows by date are the test set "
        "(rows without a date stay in training). Without a spec the column is not a feature.",
    ),
    monotone: bool = typer.Option(
        False, "--monotone", help="Apply the spec's monotone constraints."
    ),
    n_jobs: int = typer.Option(
        1, "--n-jobs", help="Worker processes for the cross-validation fits (same result)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
) -> None:
    """Train on the whole file (after internal cross-validation) and save the model."""
    say = _say(as_json)
    _check_out_dir(out)
    ds = load_training_data(data, target=target, bad_value=bad_value,
                            spec=load_spec(spec) if spec else None,
                            exclude=[date_column] if date_column else [])  # fmt: skip
    cfg = TrainConfig(kind=kind, folds=folds, seed=seed, date_column=date_column,
                      monotone=monotone, n_jobs=n_jobs)  # fmt: skip
    result = train(ds, cfg, progress=say)
    _save_whole(result, out)
    mt = result.metrics
    if as_json:
        keys = ("auc", "ks", "gini", "brier", "log_loss", "candidate_auc", "blend_weights",
                "candidate_weights", "gbm_profile", "protocol", "n_rows", "bad_rate", "approval", "train_seconds")  # fmt: skip
        typer.echo(_dump({"model": str(out), "kind": result.model.kind,
                          **{k: mt[k] for k in keys}, "calibration": mt["calibration"]["chosen"]}))  # fmt: skip
        return
    typer.echo(
        f"{result.model.kind} model → {out}\n"
        f"  {mt['protocol']}: AUC {mt['auc']:.4f}  KS {mt['ks']:.4f}  Gini {mt['gini']:.4f}  "
        f"Brier {mt['brier']:.4f}  log loss {mt['log_loss']:.4f}\n"
        f"  candidates: "
        + ", ".join(f"{k} {v:.4f}" for k, v in mt["candidate_auc"].items())
        + "; blend weights "
        + ", ".join(f"{k} {v:.1f}" for k, v in mt["candidate_weights"].items())
        + f"; calibration {mt['calibration']['chosen']}"
    )
    flagged = [
        (c, r["segment"], r["flag"])
        for c, rows in mt["segments"].items()
        for r in rows
        if r["flag"]
    ]
    if flagged:
        typer.echo("  flagged segments: " + "; ".join(f"{c}={s} ({f})" for c, s, f in flagged[:8]))


@app.command("score")
@guarded
def score_cmd(
    model: Path = typer.Option(..., "--model", help="Model directory."),
    data: Path = typer.Option(
        ..., "--data", help="CSV to score (the target column may be absent)."
    ),
    out: Path = typer.Option(..., "--out", help="Scores CSV: pd, score, reasons (input order)."),
    consent_sensitive: bool = typer.Option(
        True,
        "--consent-sensitive/--no-consent-sensitive",
        help="Whether the rows' borrowers gave separate consent for sensitive data (GPS, accounts); "
        "without it those features are scored as missing.",
    ),
    consent_column: str = typer.Option(
        None, "--consent-column", help="Per-row consent flag column."
    ),
) -> None:
    """Score every row of a CSV."""
    scorer = Scorer.load(model)
    frame = read_table(data, allow_no_rows=True)
    spec = scorer.model.spec
    if frame.empty:  # a batch without applications: an empty scores file, not an error
        out.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(columns=["pd", "score", "reasons"]).to_csv(out, index=False)
        typer.echo(f"scored 0 rows → {out}", err=True)
        return
    if spec.builder:
        frame = prepare_frame(frame, spec, data.parent)
    consent: bool | list[bool] = consent_sensitive
    if consent_column:
        if consent_column not in frame.columns:
            _fail(f"{consent_column}: consent column not in data")
        consent = [
            str(v).strip().lower() in {"1", "true", "yes", "y"} for v in frame[consent_column]
        ]
    scores = scorer.score_frame(frame, consent=consent)
    out.parent.mkdir(parents=True, exist_ok=True)
    scores.to_csv(out, index=False)
    withheld = sorted(scorer.sensitive_features & set(spec.feature_names))
    if not withheld:
        note = ""
    elif consent is True:
        note = f"; sensitive features used under recorded consent: {', '.join(withheld)}"
    else:
        note = (
            f"; sensitive features scored as missing where consent is absent: {', '.join(withheld)}"
        )
    typer.echo(f"scored {len(scores)} rows → {out}{note}", err=True)


def _group_sets(groups: list[str]) -> list[list[str]]:
    return [[g.strip() for g in item.split(",") if g.strip()] for item in groups]


@app.command("compare")
@guarded
def compare_cmd(
    data: Path = typer.Option(..., "--data"),
    spec: str = typer.Option(
        ..., "--spec", help="Spec with feature groups (YAML or shipped name)."
    ),
    groups: list[str] = typer.Option(
        ..., "--groups", help="A group set, e.g. bureau,behaviour; repeat."
    ),
    target: str = typer.Option(None, "--target"),
    bad_value: str = typer.Option(None, "--bad-value"),
    kind: str = typer.Option("auto", "--kind"),
    approval_rate: float = typer.Option(0.7, "--approval-rate"),
    n_boot: int = typer.Option(1000, "--n-boot"),
    folds: int = typer.Option(5, "--folds"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Train the same pipeline on each group set and compare AUC, KS and bad rate at one approval rate."""
    ds = load_training_data(data, target=target, bad_value=bad_value, spec=load_spec(spec))
    result = compare_groups(ds, _group_sets(groups), TrainConfig(kind=kind, folds=folds),
                            approval_rate=approval_rate, n_boot=n_boot, progress=_say(as_json))  # fmt: skip
    if as_json:
        typer.echo(_dump(result.to_dict()))
        return
    typer.echo(f"{result.protocol}")
    for s in result.sets:
        typer.echo(f"  {s['groups']:<32} AUC {s['auc']:.4f}  KS {s['ks']:.4f}  "
                   f"bad rate @ {approval_rate:.0%} approved {100 * s['bad_rate_at_approval']:.2f}%")  # fmt: skip
    for d in result.differences:
        lo, hi = d["bad_rate_diff_pp_ci95"]
        alo, ahi = d["auc_diff_ci95"]
        typer.echo(f"  {d['groups']} vs {d['baseline']}: bad rate {d['bad_rate_diff_pp']:+.2f} pp "
                   f"[95% CI {lo:+.2f}, {hi:+.2f}], AUC {d['auc_diff']:+.4f} [{alo:+.4f}, {ahi:+.4f}] "
                   f"(published claim: −1.8 pp)")  # fmt: skip


@app.command("explain")
@guarded
def explain_cmd(
    model: Path = typer.Option(..., "--model"),
    data: Path = typer.Option(..., "--data"),
    row: int = typer.Option(0, "--row", help="0-based row number in the CSV."),
    top: int = typer.Option(3, "--top"),
    lang: str = typer.Option("zh", "--lang", help="zh or en"),
    consent_sensitive: bool = typer.Option(False, "--consent-sensitive"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The top adverse reasons for one applicant, in zh-CN or English."""
    scorer = Scorer.load(model, top_reasons=top)
    frame = read_table(data)
    if scorer.model.spec.builder:
        frame = prepare_frame(frame, scorer.model.spec, data.parent)
    if not 0 <= row < len(frame):
        _fail(f"row: {row} is outside 0…{len(frame) - 1}")
    record = {str(k): (None if v != v else v) for k, v in frame.iloc[row].to_dict().items()}
    decision = scorer.score(record, consent_sensitive=consent_sensitive)
    if as_json:
        typer.echo(_dump(decision.to_dict()))
        return
    head = "评分" if lang.startswith("zh") else "Score"
    typer.echo(f"{head} {decision.score:.0f}  PD {decision.pd:.2%}")
    for i, r in enumerate(decision.reasons, start=1):
        typer.echo(f"  {i}. {r.text_zh if lang.startswith('zh') else r.text_en}  (−{r.points:.1f})")
    if decision.withheld:
        typer.echo("  withheld without consent: " + ", ".join(decision.withheld))


@app.command("report")
@guarded
def report_cmd(
    model: Path = typer.Option(..., "--model"),
    out: Path = typer.Option(..., "--out", help="HTML file to write."),
) -> None:
    """Write a self-contained HTML model report."""
    loaded = load_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(loaded), encoding="utf-8")
    typer.echo(f"report → {out}", err=True)


@app.command("monitor")
@guarded
def monitor_cmd(
    model: Path = typer.Option(..., "--model"),
    data: Path = typer.Option(..., "--data", help="New data to compare with training."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """PSI per feature and for the score; alarms at 0.10 (warn) and 0.25 (alarm)."""
    loaded = load_model(model)
    frame = read_table(data)
    if loaded.model.spec.builder:
        frame = prepare_frame(frame, loaded.model.spec, data.parent)
    result = monitor(loaded, frame)
    if as_json:
        typer.echo(_dump(result))
        return
    typer.echo(
        f"status: {result['status']}  score PSI {result['score']['psi']:.4f} ({result['score']['level']})"
    )
    for f in result["features"]:
        typer.echo(f"  {f['feature']:<40} PSI {f['psi']:.4f}  {f['level']}")


@app.command("promote")
@guarded
def promote_cmd(
    registry: Path = typer.Option(..., "--registry", help="Registry folder."),
    model: Path = typer.Option(..., "--model"),
    label: str = typer.Option("champion", "--label", help="champion | challenger | retired"),
) -> None:
    """Register a model and give it a label (champion, challenger, retired)."""
    model_id = Registry(registry).promote(model, label)
    typer.echo(f"{model_id} → {label}")


@app.command("registry")
@guarded
def registry_cmd(
    registry: Path = typer.Option(..., "--registry"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List registered models and their labels."""
    rows = Registry(registry).listing()
    if as_json:
        typer.echo(_dump(rows))
        return
    for r in rows:
        auc = f"{r['auc']:.4f}" if isinstance(r.get("auc"), float) else "?"
        typer.echo(
            f"{r['id']}  {r['kind']:<9} AUC {auc}  {','.join(r['labels']) or '-':<11} {r['path']}"
        )


if __name__ == "__main__":
    sys.exit(app())
