"""Dataset specs: what a credit dataset's columns mean and which of them a model may use.

A spec names the target column and its bad value, the id and date columns, and for each feature its
type (numeric or categorical), its *feature group* (``profile``, ``bureau``, ``behaviour``,
``alternative``, …), zh-CN and English labels, and its *data category*:

* ``prohibited`` — medical/health history, religion, genes, … (征信业管理条例 Art. 14): refused at
  training time with a ``ValidationError``;
* ``sensitive`` — location/GPS, financial accounts (PIPL Art. 28–29): usable only with the
  borrower's separate consent at decision time (the ``Scorer`` treats it as missing otherwise);
* ``ordinary`` — everything else.

Invariants: feature names are unique; every feature has both labels (the English one defaults to the
column name); a derived feature names the columns it is computed from. Specs are plain data loaded from
YAML; this module does no I/O beyond reading and writing those YAML files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from xindai.kernel import NotFoundError, ValidationError
from xindai.scoring.paths import SPECS_DIR


class DataCategory(StrEnum):
    ORDINARY = "ordinary"
    SENSITIVE = "sensitive"
    PROHIBITED = "prohibited"


class FeatureKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


DERIVE_OPS = frozenset({"ratio", "diff", "sum", "mean", "max", "min", "count_positive"})


@dataclass(frozen=True, slots=True)
class Derivation:
    """A feature computed row-wise from other columns (``ratio`` of two, ``max`` of several, …)."""

    op: str
    columns: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.op not in DERIVE_OPS:
            raise ValidationError("derive.op", f"unknown operation {self.op!r}")
        need_two = self.op in {"ratio", "diff"}
        if (need_two and len(self.columns) != 2) or not self.columns:
            raise ValidationError("derive.columns", f"{self.op} needs {'2' if need_two else '≥1'}")


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    kind: FeatureKind = FeatureKind.NUMERIC
    group: str = "other"
    category: DataCategory = DataCategory.ORDINARY
    label_en: str = ""
    label_zh: str = ""
    #: +1 when risk should rise with the value, -1 when it should fall, 0 unconstrained.
    monotone: int = 0
    derive: Derivation | None = None

    def label(self, lang: str) -> str:
        if lang.startswith("zh"):
            return self.label_zh or self.label_en or self.name
        return self.label_en or self.name


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    name: str
    target: str
    bad_value: str | None = None
    id_column: str | None = None
    date_column: str | None = None
    builder: str | None = None
    tables: Mapping[str, str] = field(default_factory=dict)
    features: tuple[FeatureSpec, ...] = ()
    title_en: str = ""
    title_zh: str = ""
    source: str | None = None
    bundled: str | None = None

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValidationError("features", f"duplicate feature names {dupes}")

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def feature(self, name: str) -> FeatureSpec:
        for f in self.features:
            if f.name == name:
                return f
        raise NotFoundError(f"feature {name!r} is not in spec {self.name!r}")

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for f in self.features:
            out.setdefault(f.group, []).append(f.name)
        return out

    def restrict_to_groups(self, groups: Iterable[str]) -> DatasetSpec:
        """The same spec keeping only features of the given groups (for bureau-vs-alternative runs)."""
        wanted = [g.strip() for g in groups if g.strip()]
        known = set(self.groups())
        unknown = [g for g in wanted if g not in known]
        if unknown:
            raise ValidationError("groups", f"unknown group(s) {unknown}; spec has {sorted(known)}")
        kept = tuple(f for f in self.features if f.group in wanted)
        return replace(self, features=kept)

    def to_dict(self) -> dict[str, Any]:
        feats: dict[str, Any] = {}
        for f in self.features:
            entry: dict[str, Any] = {
                "type": f.kind.value,
                "group": f.group,
                "category": f.category.value,
                "en": f.label_en,
                "zh": f.label_zh,
            }
            if f.monotone:
                entry["monotone"] = f.monotone
            if f.derive is not None:
                entry["derive"] = {"op": f.derive.op, "columns": list(f.derive.columns)}
            feats[f.name] = entry
        out: dict[str, Any] = {
            "name": self.name,
            "title": {"en": self.title_en, "zh": self.title_zh},
            "target": self.target,
            "bad_value": self.bad_value,
            "id_column": self.id_column,
            "date_column": self.date_column,
        }
        if self.source:
            out["source"] = self.source
        if self.bundled:
            out["bundled"] = self.bundled
        if self.builder:
            out["builder"] = self.builder
            out["tables"] = dict(self.tables)
        out["features"] = feats
        return out


def _feature_from(name: str, raw: Mapping[str, Any]) -> FeatureSpec:
    where = f"features.{name}"
    try:
        kind = FeatureKind(str(raw.get("type", "numeric")))
    except ValueError:
        raise ValidationError(f"{where}.type", "must be numeric or categorical") from None
    try:
        category = DataCategory(str(raw.get("category", "ordinary")))
    except ValueError:
        raise ValidationError(
            f"{where}.category", "must be ordinary, sensitive or prohibited"
        ) from None
    monotone = int(raw.get("monotone", 0))
    if monotone not in (-1, 0, 1):
        raise ValidationError(f"{where}.monotone", "must be -1, 0 or 1")
    derive = None if raw.get("derive") is None else _derivation_from(name, raw["derive"])
    return FeatureSpec(
        name=name,
        kind=kind,
        group=str(raw.get("group", "other")),
        category=category,
        label_en=str(raw.get("en") or name),
        label_zh=str(raw.get("zh") or raw.get("en") or name),
        monotone=monotone,
        derive=derive,
    )


def _derivation_from(name: str, raw: object) -> Derivation:
    """A feature's ``derive`` block; every error names ``features.<name>.derive…``."""
    where = f"features.{name}.derive"
    if not isinstance(raw, Mapping):
        raise ValidationError(where, "must be a mapping with 'op' and 'columns'")
    op = raw.get("op")
    if not isinstance(op, str) or op not in DERIVE_OPS:
        raise ValidationError(
            f"{where}.op", f"unknown operation {op!r}; one of {', '.join(sorted(DERIVE_OPS))}"
        )
    cols = raw.get("columns")
    if isinstance(cols, str) or not isinstance(cols, list) or not cols:
        raise ValidationError(f"{where}.columns", "must be a non-empty list of column names")
    if any(not isinstance(c, str) or not c.strip() for c in cols):
        raise ValidationError(f"{where}.columns", f"column names must be text, got {cols!r}")
    if name in cols:
        raise ValidationError(f"{where}.columns", f"{name!r} cannot be derived from itself")
    try:
        return Derivation(op, tuple(cols))
    except ValidationError as exc:
        raise ValidationError(f"{where}.columns", exc.reason) from None


def spec_from_dict(raw: Mapping[str, Any]) -> DatasetSpec:
    """Build a spec from its YAML mapping; a missing or malformed key raises ``ValidationError``."""
    if not isinstance(raw, Mapping):
        raise ValidationError("spec", "must be a YAML mapping")
    if not raw.get("target"):
        raise ValidationError("spec.target", "is required")
    feats_raw = raw.get("features") or {}
    if not isinstance(feats_raw, Mapping):
        raise ValidationError("spec.features", "must map feature names to their descriptions")
    features = tuple(_feature_from(str(k), v or {}) for k, v in feats_raw.items())
    title = raw.get("title") or {}
    bad = raw.get("bad_value")
    return DatasetSpec(
        name=str(raw.get("name", "dataset")),
        target=str(raw["target"]),
        bad_value=None if bad is None else normalize_label(bad),
        id_column=raw.get("id_column"),
        date_column=raw.get("date_column"),
        builder=raw.get("builder"),
        tables=dict(raw.get("tables") or {}),
        features=features,
        title_en=str(title.get("en", "")),
        title_zh=str(title.get("zh", "")),
        source=raw.get("source"),
        bundled=raw.get("bundled"),
    )


def normalize_label(value: object) -> str:
    """A target value as text, so that ``1``, ``1.0`` and ``"1"`` compare equal."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    try:
        as_float = float(text)
    except ValueError:
        return text
    return str(int(as_float)) if as_float.is_integer() else text


def builtin_spec_names() -> list[str]:
    return sorted(p.stem for p in SPECS_DIR.glob("*.yaml"))


def load_spec(path_or_name: str | Path) -> DatasetSpec:
    """Load a spec from a YAML file, or a shipped one by name (``taiwan_default``, ``zindi``…)."""
    path = Path(path_or_name)
    if not path.is_file():
        shipped = SPECS_DIR / f"{path_or_name}.yaml"
        if not shipped.is_file():
            raise ValidationError(
                "spec", f"{path_or_name} is neither a file nor one of {builtin_spec_names()}"
            )
        path = shipped
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationError(
            "spec", f"{path} is not valid YAML ({exc.__class__.__name__})"
        ) from None
    return spec_from_dict(raw)


def dump_spec(spec: DatasetSpec, path: Path) -> None:
    path.write_text(
        yaml.safe_dump(spec.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
