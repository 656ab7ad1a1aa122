"""Model registry: a folder with ``registry.json`` listing model directories and their labels.

Labels are ``champion`` (decides), ``challenger`` (runs in shadow beside it) and ``retired``. Every
label change is appended to the registry's history with the time from the injected clock.
Invariants: at most one model holds ``champion`` and at most one ``challenger``; a model id is the
first 16 hex digits of the SHA-256 of its ``model.json``, so re-registering is idempotent.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from xindai.kernel import Clock, NotFoundError, SystemClock, ValidationError
from xindai.scoring.artefact import load_model

LABELS = ("champion", "challenger", "retired")


class Registry:
    def __init__(self, root: str | Path, clock: Clock | None = None) -> None:
        self.root = Path(root)
        self.clock = clock or SystemClock()

    @property
    def file(self) -> Path:
        return self.root / "registry.json"

    def read(self) -> dict[str, Any]:
        if not self.file.is_file():
            return {"models": {}, "labels": {}, "history": []}
        try:
            data: dict[str, Any] = json.loads(self.file.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise ValidationError("registry", f"{self.file} is not valid JSON") from None
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.file)  # atomic: a reader never sees half a registry

    def register(self, model_dir: str | Path) -> str:
        loaded = load_model(model_dir)  # refuses a directory that is not a model
        model_id = hashlib.sha256((loaded.path / "model.json").read_bytes()).hexdigest()[:16]
        data = self.read()
        if model_id not in data["models"]:
            data["models"][model_id] = {
                "path": str(Path(model_dir).resolve()),
                "kind": loaded.model.kind,
                "auc": loaded.metrics.get("auc"),
                "data_sha256": loaded.provenance.get("data_sha256"),
                "registered_at": self.clock.now().isoformat(),
            }
            data["history"].append(
                {"at": self.clock.now().isoformat(), "event": "registered", "model": model_id}
            )
            self._write(data)
        return model_id

    def promote(self, model_dir: str | Path, label: str = "champion") -> str:
        if label not in LABELS:
            raise ValidationError("label", f"must be one of {', '.join(LABELS)}")
        model_id = self.register(model_dir)
        data = self.read()
        previous = data["labels"].get(label)
        for other, holder in list(data["labels"].items()):
            if holder == model_id and other != label:
                del data["labels"][other]
        if label == "retired":
            data["labels"] = {k: v for k, v in data["labels"].items() if v != model_id}
        else:
            data["labels"][label] = model_id
        data["history"].append(
            {"at": self.clock.now().isoformat(), "event": label, "model": model_id,
             "replaced": previous}
        )  # fmt: skip
        self._write(data)
        return model_id

    def path_of(self, label: str) -> Path:
        data = self.read()
        model_id = data["labels"].get(label)
        if model_id is None:
            raise NotFoundError(f"no model is labelled {label!r} in {self.file}")
        return Path(data["models"][model_id]["path"])

    def listing(self) -> list[dict[str, Any]]:
        data = self.read()
        by_model: dict[str, list[str]] = {}
        for label, mid in data["labels"].items():
            by_model.setdefault(mid, []).append(label)
        return [
            {"id": mid, **info, "labels": sorted(by_model.get(mid, []))}
            for mid, info in data["models"].items()
        ]
