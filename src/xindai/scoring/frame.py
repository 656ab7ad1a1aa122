"""From a CSV to a clean, validated feature matrix: loading, target, inference, encoding.

Invariants:
* the encoded matrix is ``float64`` with one column per schema feature, in schema order; categorical
  values become the index of the category in the schema's list; anything unseen, unparseable or
  missing becomes ``NaN`` — so scoring never fails on a new category, it scores it as missing;
* bad input (empty file, missing target, a non-binary target, an all-missing column, a prohibited
  feature) raises ``ValidationError`` naming the field, before anything is trained or written.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from xindai.kernel import ValidationError
from xindai.scoring.numbers import numeric_texts
from xindai.scoring.spec import (
    DataCategory,
    DatasetSpec,
    Derivation,
    FeatureKind,
    FeatureSpec,
    normalize_label,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: At most this many categories are kept per categorical feature (most frequent first); rarer ones
#: are scored as missing, which keeps artefacts small and single-row lookups O(1).
MAX_CATEGORIES = 200

_BAD_TOKENS = ("1", "bad", "default", "defaulted", "yes", "y", "true", "charged off", "delinquent")
_PROHIBITED_TOKENS = frozenset(
    {"religion", "religious", "gene", "genes", "genetic", "dna", "blood", "fingerprint",
     "disease", "medical", "illness", "diagnosis", "ethnicity", "ethnic"}
)  # fmt: skip
_SENSITIVE_TOKENS = frozenset(
    {"gps", "latitude", "longitude", "lat", "lon", "lng", "location", "geo", "bank", "account",
     "biometric", "face"}
)  # fmt: skip


#: encodings tried in order: UTF-8 (a byte-order mark is dropped), then GB 18030 — the superset of
#: GBK/GB2312 that Chinese spreadsheet exports use; every byte string is not valid in both, so a
#: file that fails both is reported, not guessed
ENCODINGS = ("utf-8-sig", "gb18030")
#: delimiters recognised besides the comma (European exports use ';', database dumps tab or '|')
DELIMITERS = ",;\t|"


def _records(head: str, d: str) -> list[list[str]]:
    """The first records of a CSV's head split on ``d`` (blank lines skipped); ``csv.Error`` when
    the head cannot be split (a NUL byte)."""
    cut = not head.endswith(("\n", "\r"))  # the last record may be cut mid-way by the read size
    records = [
        r
        for r in csv.reader(io.StringIO(head, newline=""), delimiter=d)
        if len(r) > 1 or (r and r[0].strip())
    ]
    if len(records) > 1 and cut:
        records = records[:-1]
    return records[:20]


def _delimiter(head: str) -> str:
    """The delimiter of a CSV from its first records: the candidate that splits the header into the
    most fields and every following record into the same number (or one more: rows ending in a
    separator the header lacks, or row names in front); the comma when none does better.

    Records, not lines: a quoted field may hold a line break (a multi-line address or comment), and
    only a CSV reader — which honours the quotes as pandas does — sees where such a record ends."""
    best, best_fields = ",", 1
    for d in DELIMITERS:
        try:
            records = _records(head, d)
        except csv.Error:
            continue
        if not records:
            continue
        header, rows = len(records[0]), {len(r) for r in records[1:]}
        fields = header if not rows else rows.pop() if len(rows) == 1 else 0
        if fields not in (header, header + 1):
            fields = 0
        if fields > best_fields:
            best, best_fields = d, fields
    return best


def _trailing_separators(head: str, sep: str) -> bool | None:
    """Whether the data rows have more fields than the header (then pandas takes the first
    field(s) as the row index and shifts every column): ``True`` when the surplus fields are all
    empty — rows ending in a separator the header lacks, ``1,2,0,`` under ``a,b,y``; ``False`` when
    they hold values — row names in front, as R's ``write.table`` writes; ``None`` otherwise."""
    try:
        records = _records(head, sep)
    except csv.Error:
        return None
    if len(records) < 2 or len(records[1]) <= len(records[0]):
        return None
    width = len(records[0])
    return all(not f.strip() for r in records[1:] for f in r[width:])


def read_table(path: str | Path, *, allow_no_rows: bool = False) -> pd.DataFrame:
    """Read a CSV (optionally gzipped; UTF-8 or GB 18030; comma, semicolon, tab or '|' separated);
    an absent or empty file is a ``ValidationError``, and so is a header without rows unless
    ``allow_no_rows`` (a batch to score may be empty; a table to learn from may not)."""
    p = Path(path)
    if not p.is_file():
        raise ValidationError("data", f"no such file: {p}")
    last: Exception | None = None
    for encoding in ENCODINGS:
        try:
            with _open_text(p, encoding) as fh:
                head = fh.read(64 * 1024)
            if not head.strip():
                raise ValidationError("data", f"{p} is empty")
            sep = _delimiter(head)
            trailing = _trailing_separators(head, sep)
            # trailing separators: no index column, the empty surplus fields are dropped; row
            # names: read as pandas' index, then dropped — either way the columns stay in place
            df = pd.read_csv(
                p, low_memory=False, encoding=encoding, sep=sep,
                index_col=False if trailing else None,
            )  # fmt: skip
            if trailing is False:
                df = df.reset_index(drop=True)
            return _nonempty(df, p, allow_no_rows)
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.EmptyDataError:
            raise ValidationError("data", f"{p} is empty") from None
        except pd.errors.ParserError as exc:
            # pandas' last line says where: "C error: Expected 3 fields in line 7, saw 4"
            where = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
            raise ValidationError(
                "data", f"{p} is not a readable CSV ({exc.__class__.__name__}: {where})"
            ) from None
    raise ValidationError(
        "data", f"{p} is not a readable CSV (neither UTF-8 nor GB 18030: {last.__class__.__name__})"
    )


def _open_text(p: Path, encoding: str) -> IO[str]:
    if p.suffix == ".gz":
        return gzip.open(p, "rt", encoding=encoding)
    return p.open(encoding=encoding)


#: the name pandas gives a column whose header cell is empty
_UNNAMED = re.compile(r"^Unnamed: \d+$")


def _nonempty(df: pd.DataFrame, p: Path, allow_no_rows: bool) -> pd.DataFrame:
    # a column with neither a header nor a value is an export artefact — trailing separators
    # ("a,b,c,") — not data: dropped, so it is neither "entirely missing" nor a feature
    artefacts = [c for c in df.columns if _UNNAMED.match(str(c)) and df[c].isna().all()]
    if artefacts:
        df = df.drop(columns=artefacts)
    if not len(df.columns):
        raise ValidationError("data", f"{p} has no column with a header or a value")
    if df.empty and not allow_no_rows:
        raise ValidationError("data", f"{p} has a header but no rows")
    return df


def fingerprint(paths: Iterable[Path]) -> str:
    """SHA-256 over the bytes of the training files, in the order given."""
    digest = hashlib.sha256()
    for p in paths:
        with p.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def minority_count(y: IntArray) -> int:
    """Rows of the rarer class of a 0/1 target — how many folds a stratified split can make."""
    return int(min(y.sum(), y.shape[0] - y.sum()))


def binary_target(series: pd.Series, bad_value: str | None) -> tuple[IntArray, str, int]:
    """Map the target to 1 = bad, 0 = good; returns ``(y, bad_value, rows_without_target)``.

    Rows with a missing target cannot be learned from and are reported, not guessed. The bad value,
    when not given, is inferred only when unambiguous (0/1, or a value such as ``bad``/``default``).
    """
    name = str(series.name)
    present = series.notna()
    labels = series[present].map(normalize_label)
    distinct = sorted(set(labels))
    if not distinct:
        raise ValidationError(name, "target column is entirely missing")
    if len(distinct) > 2:
        shown = ", ".join(distinct[:6]) + (", …" if len(distinct) > 6 else "")
        raise ValidationError(
            name, f"target has {len(distinct)} distinct values ({shown}); need exactly two"
        )
    if len(distinct) < 2:
        raise ValidationError(name, f"target has only one value ({distinct[0]}); need two")
    if bad_value is not None:
        bad = normalize_label(bad_value)
        if bad not in distinct:
            raise ValidationError("bad_value", f"{bad!r} is not a value of {name} ({distinct})")
    else:
        lowered = {d.lower(): d for d in distinct}
        hits = [lowered[t] for t in _BAD_TOKENS if t in lowered]
        if not hits:
            raise ValidationError(
                "bad_value", f"cannot tell which of {distinct} means bad; pass --bad-value"
            )
        bad = hits[0]
    y = np.full(len(series), -1, dtype=np.int64)
    y[present.to_numpy()] = (labels == bad).to_numpy().astype(np.int64)
    return y, bad, int((~present).sum())


def _tokens(name: str) -> set[str]:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return {t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t}


def _numeric_share(col: pd.Series) -> float:
    present = col.dropna()
    if present.empty:
        return 0.0
    if pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present):
        return 1.0
    if pd.api.types.is_bool_dtype(present):
        return 0.0  # True/False is a category, not a quantity
    return float(np.isfinite(numeric_values(present)).mean())


def _is_id_like(name: str, col: pd.Series, numeric: bool) -> bool:
    n = len(col)
    unique_share = col.nunique(dropna=True) / max(n, 1)
    toks = _tokens(name)
    named_id = (
        bool(toks & {"id", "uuid", "key"})
        or name.lower().endswith("id")
        or bool(_UNNAMED.match(name))  # a header-less first column: a saved DataFrame index
    )
    if named_id and unique_share > 0.5:
        return True
    # free text, ids or timestamps stored as strings: one value per row, no reusable pattern
    return not numeric and unique_share > 0.5


def infer_spec(
    df: pd.DataFrame,
    target: str,
    bad_value: str | None = None,
    *,
    name: str = "inferred",
    exclude: Sequence[str] = (),
) -> DatasetSpec:
    """A spec for a CSV seen for the first time: types inferred, id-like and constant columns
    dropped, every other column used. Prohibited/sensitive categories are guessed from the column
    name (a prohibited one then stops training — deliberately: a human must drop it)."""
    check_target_column(df, target)
    features: list[FeatureSpec] = []
    for col in df.columns:
        if col == target or col in exclude:
            continue
        series = df[col]
        if series.isna().all():
            raise ValidationError(str(col), "column is entirely missing; drop it or fix the file")
        if series.nunique(dropna=False) <= 1:
            continue
        numeric = _numeric_share(series) >= 0.95
        if _is_id_like(str(col), series, numeric):
            continue
        toks = _tokens(str(col))
        category = DataCategory.ORDINARY
        if toks & _PROHIBITED_TOKENS:
            category = DataCategory.PROHIBITED
        elif toks & _SENSITIVE_TOKENS:
            category = DataCategory.SENSITIVE
        features.append(
            FeatureSpec(
                name=str(col),
                kind=FeatureKind.NUMERIC if numeric else FeatureKind.CATEGORICAL,
                group="other",
                category=category,
                label_en=str(col),
                label_zh=str(col),
            )
        )
    if not features:
        raise ValidationError("data", "no usable feature column besides the target")
    return DatasetSpec(
        name=name,
        target=target,
        bad_value=None if bad_value is None else normalize_label(bad_value),
        features=tuple(features),
    )


def check_target_column(df: pd.DataFrame, target: str) -> None:
    """The target must be a column, and only one: pandas reads a repeated header ``y, y`` as ``y``
    and ``y.1``, and a second copy of the target among the features would be learned as a
    perfect predictor."""
    if target not in df.columns:
        raise ValidationError("target", f"column {target!r} not in data ({_cols(df)})")
    twin = f"{target}.1"
    if twin in df.columns:
        raise ValidationError(
            "target",
            f"the header names {target!r} more than once (read as {target!r}, {twin!r}, …); "
            "keep one target column",
        )


def _cols(df: pd.DataFrame) -> str:
    names = [str(c) for c in df.columns]
    return "columns: " + ", ".join(names[:12]) + (", …" if len(names) > 12 else "")


def numeric_values(values: pd.Series | Sequence[object]) -> FloatArray:
    """Numbers as float64. Text is read by ``numbers.number_from_text`` (``"10.65%"``,
    ``"36 months"``, ``"$1,200"``, dates → days since 1970); anything else, and ±inf, is NaN."""
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_bool_dtype(series):
        series = series.astype(object)
    if not pd.api.types.is_numeric_dtype(series):
        raw = series.astype(object)
        parsed = pd.to_numeric(raw, errors="coerce")  # the C fast path for plain numbers
        texts = parsed.isna().to_numpy() & raw.notna().to_numpy()
        out = np.array(parsed.to_numpy(dtype=np.float64, na_value=np.nan), copy=True)
        if texts.any():
            out[texts] = numeric_texts(raw[texts])
    else:
        out = np.array(series.to_numpy(dtype=np.float64, na_value=np.nan), copy=True)
    out[~np.isfinite(out)] = np.nan
    return out


def category_text(value: object) -> str | None:
    """The canonical text of a categorical value (None when missing)."""
    if value is None:
        return None
    if isinstance(value, float):
        if np.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
    text = str(value).strip()
    return text if text and text.lower() != "nan" else None


def derive(columns: Mapping[str, pd.Series] | pd.DataFrame, n: int, how: Derivation) -> FloatArray:
    """Compute one derived feature row-wise; absent inputs give NaN, division by ≤0 gives NaN."""
    cols = [numeric_values(columns[c]) if c in columns else np.full(n, np.nan) for c in how.columns]
    with np.errstate(divide="ignore", invalid="ignore"):
        if how.op == "ratio":
            den = cols[1]
            out = np.where(den > 0, cols[0] / np.where(den > 0, den, 1.0), np.nan)
        elif how.op == "diff":
            out = cols[0] - cols[1]
        else:
            stack = np.vstack(cols)
            all_missing = np.isnan(stack).all(axis=0)
            if how.op == "count_positive":
                out = (np.nan_to_num(stack, nan=0.0) > 0).sum(axis=0).astype(np.float64)
            else:
                func: dict[str, Any] = {
                    "sum": np.nansum,
                    "mean": np.nanmean,
                    "max": np.nanmax,
                    "min": np.nanmin,
                }
                # all-missing rows are filled first so the nan-reductions do not warn on them
                safe = np.where(all_missing, 0.0, stack)
                out = func[how.op](safe, axis=0).astype(np.float64)
            out = np.where(all_missing, np.nan, out)
    result = np.array(out, dtype=np.float64)
    result[~np.isfinite(result)] = np.nan
    return result


def add_derived(df: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Return ``df`` with every derived feature of the spec added, in spec order (a derived feature
    may use an earlier one). The input is not modified."""
    extra: dict[str, pd.Series] = {}
    for f in spec.features:
        if f.derive is not None:
            view = _Columns(df, extra)
            extra[f.name] = pd.Series(derive(view, len(df), f.derive), index=df.index)
    if not extra:
        return df
    base = df.drop(columns=[c for c in extra if c in df.columns])
    return pd.concat([base, pd.DataFrame(extra, index=df.index)], axis=1)


class _Columns(Mapping[str, pd.Series]):
    """Read-only view over a frame's columns plus the derived columns computed so far."""

    def __init__(self, df: pd.DataFrame, extra: Mapping[str, pd.Series]) -> None:
        self._df, self._extra = df, extra

    def __getitem__(self, key: str) -> pd.Series:
        return self._extra[key] if key in self._extra else self._df[key]

    def __contains__(self, key: object) -> bool:
        return key in self._extra or key in self._df.columns

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([*self._df.columns, *self._extra])

    def __len__(self) -> int:
        return len(self._df.columns) + len(self._extra)


@dataclass(frozen=True, slots=True)
class Schema:
    """The learned encoding of the model's inputs: names, kinds and category lists, in order."""

    names: tuple[str, ...]
    kinds: tuple[FeatureKind, ...]
    categories: tuple[tuple[str, ...], ...]

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, k in enumerate(self.kinds) if k is FeatureKind.CATEGORICAL]

    def lookup(self) -> list[dict[str, int] | None]:
        """Per feature: category text → code (None for numeric features)."""
        return [
            {c: j for j, c in enumerate(cats)} if kind is FeatureKind.CATEGORICAL else None
            for kind, cats in zip(self.kinds, self.categories, strict=True)
        ]

    def to_dict(self) -> dict[str, object]:
        return {
            "features": [
                {"name": n, "kind": k.value, "categories": list(c)}
                for n, k, c in zip(self.names, self.kinds, self.categories, strict=True)
            ]
        }

    @staticmethod
    def from_dict(raw: Mapping[str, object]) -> Schema:
        feats = raw["features"]
        assert isinstance(feats, list)
        return Schema(
            names=tuple(str(f["name"]) for f in feats),
            kinds=tuple(FeatureKind(f["kind"]) for f in feats),
            categories=tuple(tuple(str(c) for c in f["categories"]) for f in feats),
        )


def learn_schema(df: pd.DataFrame, spec: DatasetSpec) -> Schema:
    """Fix the feature order and, per categorical feature, its category list (most frequent first)."""
    names, kinds, cats = [], [], []
    for f in spec.features:
        names.append(f.name)
        kinds.append(f.kind)
        if f.kind is FeatureKind.CATEGORICAL:
            texts = df[f.name].map(category_text).dropna()
            counts = texts.value_counts(sort=True)
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES]
            cats.append(tuple(str(k) for k, _ in ordered))
        else:
            cats.append(())
    return Schema(tuple(names), tuple(kinds), tuple(cats))


def encode(df: pd.DataFrame, schema: Schema) -> FloatArray:
    """The model matrix for ``df``: absent columns and unseen categories become NaN."""
    out = np.full((len(df), len(schema.names)), np.nan, dtype=np.float64)
    for j, (name, lookup) in enumerate(zip(schema.names, schema.lookup(), strict=True)):
        if name not in df.columns:
            continue
        col = df[name]
        if lookup is None:
            out[:, j] = numeric_values(col)
        else:
            # map each distinct value once (factorize), not every row: O(rows) in NumPy
            inverse, uniques = pd.factorize(col, use_na_sentinel=True)
            table = np.array(
                [lookup.get(category_text(u) or "", np.nan) for u in uniques] + [np.nan],
                dtype=np.float64,
            )
            out[:, j] = table[np.where(inverse < 0, len(uniques), inverse)]
    return out


def validate_training_frame(df: pd.DataFrame, spec: DatasetSpec) -> None:
    """Refuse what a model must not learn from: absent or all-missing features, prohibited data."""
    check_target_column(df, spec.target)
    prohibited = [f.name for f in spec.features if f.category is DataCategory.PROHIBITED]
    if prohibited:
        raise ValidationError(
            prohibited[0],
            "prohibited data category (health/medical history, religion, genes, …) may not be "
            "used for credit decisions (征信业管理条例 Art. 14); drop the column"
            + (f" (also: {', '.join(prohibited[1:])})" if len(prohibited) > 1 else ""),
        )
    if not spec.features:
        raise ValidationError("features", "the spec selects no feature")
    for f in spec.features:
        missing_inputs = [c for c in (f.derive.columns if f.derive else ()) if c not in df.columns]
        if missing_inputs:
            raise ValidationError(
                f"features.{f.name}.derive.columns",
                f"input column {missing_inputs[0]!r} not in data ({_cols(df)})",
            )
        if f.name not in df.columns:
            raise ValidationError(f.name, f"feature column not in data ({_cols(df)})")
        if df[f.name].isna().all():
            raise ValidationError(f.name, "column is entirely missing; drop it or fix the file")
        if f.name == spec.target:
            raise ValidationError(f.name, "the target cannot also be a feature")
