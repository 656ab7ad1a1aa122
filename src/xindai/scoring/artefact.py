"""Model artefacts on disk: one directory per trained model, no pickle anywhere.

Layout::

    model.json      format, kind, blend weights, schema, scale, calibrator (JSON parameters),
                    provenance (date, SHA-256 of the training files, library versions, config)
    scorecard.json  the points table (when the model has a scorecard)
    gbm.txt         the LightGBM model in LightGBM's text format (when it has a GBM)
    linear.json     the logistic-regression terms (when the blend has a linear member)
    spec.yaml       the dataset spec the model was trained with (labels, groups, data categories)
    metrics.json    the out-of-fold evaluation (what the report shows)
    reference.json  training distributions of features and score, for PSI monitoring

Invariant: ``load_model(save_model(r, d))`` scores every row exactly as the in-memory model did.
A directory without a readable ``model.json`` is refused with a one-line ``ValidationError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xindai.kernel import ValidationError
from xindai.scoring import gbm as gbm_mod
from xindai.scoring.calibration import Calibrator
from xindai.scoring.frame import Schema
from xindai.scoring.linear import LinearModel
from xindai.scoring.model import CreditModel
from xindai.scoring.scale import Scale
from xindai.scoring.scorecard import Scorecard
from xindai.scoring.spec import dump_spec, load_spec
from xindai.scoring.training import TrainResult

FORMAT = "xindai-credit-model/1"


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    model: CreditModel
    metrics: dict[str, Any]
    provenance: dict[str, Any]
    reference: dict[str, Any]


def _write_json(path: Path, data: Any) -> None:
    path.write_text(
        json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False), encoding="utf-8"
    )


def _jsonable(obj: Any) -> Any:
    """Replace NaN/inf (not valid JSON) by None, recursively."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def save_model(result: TrainResult, directory: str | Path) -> Path:
    """Write the artefact; the directory is created (it may exist, files are overwritten)."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    model = result.model
    files: dict[str, str] = {}
    if model.scorecard is not None:
        _write_json(out / "scorecard.json", model.scorecard.to_dict())
        files["scorecard"] = "scorecard.json"
    if model.booster is not None:
        (out / "gbm.txt").write_text(gbm_mod.to_text(model.booster), encoding="utf-8")
        files["gbm"] = "gbm.txt"
    if model.linear is not None:
        _write_json(out / "linear.json", model.linear.to_dict())
        files["linear"] = "linear.json"
    dump_spec(model.spec, out / "spec.yaml")
    _write_json(out / "metrics.json", _jsonable(result.metrics))
    _write_json(out / "reference.json", _jsonable(result.reference))
    _write_json(
        out / "model.json",
        _jsonable(
            {
                "format": FORMAT,
                "kind": model.kind,
                "weights": dict(model.weights),
                "schema": model.schema.to_dict(),
                "scale": model.scale.to_dict(),
                "calibrator": model.calibrator.to_dict(),
                "files": files,
                "provenance": result.provenance,
            }
        ),
    )
    return out


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError("model", f"{path} is unreadable ({exc.__class__.__name__})") from None


def load_model(directory: str | Path) -> LoadedModel:
    """Load an artefact written by ``save_model``."""
    root = Path(directory)
    meta_path = root / "model.json"
    if not root.is_dir() or not meta_path.is_file():
        raise ValidationError("model", f"{root} is not a xindai model directory (no model.json)")
    meta = _read_json(meta_path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValidationError("model", f"{meta_path} is not a {FORMAT} file")
    files = meta.get("files", {})
    scorecard = None
    booster = None
    if "scorecard" in files:
        scorecard = Scorecard.from_dict(_read_json(root / files["scorecard"]))
    if "gbm" in files:
        try:
            booster = gbm_mod.from_text((root / files["gbm"]).read_text(encoding="utf-8"))
        except Exception as exc:  # LightGBM raises its own error type on a corrupt file
            raise ValidationError(
                "model", f"{root / files['gbm']} is not a LightGBM model"
            ) from exc
    model = CreditModel(
        schema=Schema.from_dict(meta["schema"]),
        spec=load_spec(root / "spec.yaml"),
        scorecard=scorecard,
        booster=booster,
        weights={str(k): float(v) for k, v in meta["weights"].items()},
        linear=LinearModel.from_dict(_read_json(root / files["linear"]))
        if "linear" in files
        else None,
        calibrator=Calibrator.from_dict(meta["calibrator"]),
        scale=Scale(**meta["scale"]),
    )
    metrics = _read_json(root / "metrics.json") if (root / "metrics.json").is_file() else {}
    reference = _read_json(root / "reference.json") if (root / "reference.json").is_file() else {}
    return LoadedModel(root, model, metrics, meta.get("provenance", {}), reference)
