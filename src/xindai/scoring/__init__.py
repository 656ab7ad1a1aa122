"""Credit scoring on real data: dataset specs, WOE scorecards and LightGBM, calibration, evaluation,
bureau-vs-alternative comparisons, explanations, artefacts and a registry, reports and monitoring.

Training uses numpy / pandas / scikit-learn / LightGBM / optbinning; the decision path (``Scorer``)
loads a saved artefact (JSON + LightGBM text, never pickle) and scores one application fast.
This package imports no framework (no web, database or CLI library).
"""

from xindai.scoring.artefact import LoadedModel, load_model, save_model
from xindai.scoring.compare import Comparison, compare_groups
from xindai.scoring.monitor import monitor
from xindai.scoring.registry import Registry
from xindai.scoring.report import render_report
from xindai.scoring.scorer import Decision, Scorer
from xindai.scoring.spec import DataCategory, DatasetSpec, FeatureKind, FeatureSpec, load_spec
from xindai.scoring.training import (
    TrainConfig,
    TrainingData,
    TrainResult,
    load_training_data,
    train,
)

__all__ = [
    "Comparison",
    "DataCategory",
    "DatasetSpec",
    "Decision",
    "FeatureKind",
    "FeatureSpec",
    "LoadedModel",
    "Registry",
    "Scorer",
    "TrainConfig",
    "TrainResult",
    "TrainingData",
    "compare_groups",
    "load_model",
    "load_spec",
    "load_training_data",
    "monitor",
    "render_report",
    "save_model",
    "train",
]
