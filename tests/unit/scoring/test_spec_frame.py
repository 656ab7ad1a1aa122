"""Specs, target handling, type inference, derived features and encoding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xindai.kernel import ValidationError
from xindai.scoring.frame import (
    add_derived,
    binary_target,
    encode,
    infer_spec,
    learn_schema,
    read_table,
    validate_training_frame,
)
from xindai.scoring.spec import (
    DataCategory,
    FeatureKind,
    builtin_spec_names,
    dump_spec,
    load_spec,
    spec_from_dict,
)


def test_every_shared_dataset_has_a_shipped_spec_with_labels() -> None:
    names = builtin_spec_names()
    assert {"taiwan_default", "german_credit", "hmeq", "credit_risk_dataset", "lending_club",
            "zindi_superlender"} <= set(names)  # fmt: skip
    for name in names:
        spec = load_spec(name)
        assert spec.target and spec.features
        for f in spec.features:
            assert f.label_en and f.label_zh, f.name
        assert len(spec.groups()) >= 2


def test_zindi_spec_marks_gps_sensitive_and_joins_tables() -> None:
    spec = load_spec("zindi_superlender")
    assert spec.feature("longitude_gps").category is DataCategory.SENSITIVE
    assert spec.builder == "zindi_superlender"
    assert "behaviour" in spec.groups()


def test_spec_round_trips_through_yaml(tmp_path: Path) -> None:
    spec = load_spec("taiwan_default")
    dump_spec(spec, tmp_path / "s.yaml")
    assert load_spec(tmp_path / "s.yaml") == spec


def test_spec_rejects_unknown_category() -> None:
    with pytest.raises(ValidationError, match="category"):
        spec_from_dict({"target": "y", "features": {"a": {"category": "secret"}}})


def test_restrict_to_unknown_group_is_an_error() -> None:
    with pytest.raises(ValidationError, match="unknown group"):
        load_spec("taiwan_default").restrict_to_groups(["bureau", "astrology"])


def test_binary_target_infers_the_bad_value() -> None:
    y, bad, dropped = binary_target(pd.Series([0, 1, 1, 0], name="t"), None)
    assert bad == "1" and y.tolist() == [0, 1, 1, 0] and dropped == 0
    y, bad, _ = binary_target(pd.Series(["Good", "Bad", "Good"], name="t"), None)
    assert bad == "Bad" and y.tolist() == [0, 1, 0]
    y, bad, _ = binary_target(pd.Series(["ok", "late", "ok"], name="t"), "late")
    assert y.tolist() == [0, 1, 0]


@pytest.mark.parametrize(
    ("values", "bad", "message"),
    [
        ([1, 2, 3], None, "3 distinct values"),
        ([1, 1, 1], None, "only one value"),
        (["x", "z"], None, "cannot tell"),
        ([0, 1], "7", "not a value"),
    ],
)
def test_binary_target_errors(values: list[object], bad: str | None, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        binary_target(pd.Series(values, name="t"), bad)


def test_infer_drops_ids_and_constants_and_types_columns() -> None:
    df = pd.DataFrame(
        {
            "loan_id": [f"L{i}" for i in range(100)],
            "const": [1] * 100,
            "income": np.linspace(1, 2, 100),
            "city": ["a", "b", "c", "d"] * 25,
            "y": [0, 1] * 50,
        }
    )
    spec = infer_spec(df, "y")
    assert spec.feature_names == ["income", "city"]
    assert spec.feature("city").kind is FeatureKind.CATEGORICAL


def test_infer_guesses_prohibited_and_sensitive_from_names() -> None:
    df = pd.DataFrame(
        {"medical_history": ["x", "y"] * 5, "gps_lat": np.arange(10.0), "y": [0, 1] * 5}
    )
    spec = infer_spec(df, "y")
    assert spec.feature("medical_history").category is DataCategory.PROHIBITED
    assert spec.feature("gps_lat").category is DataCategory.SENSITIVE
    with pytest.raises(ValidationError, match="prohibited"):
        validate_training_frame(df, spec)


def test_all_missing_column_is_refused() -> None:
    df = pd.DataFrame({"a": [np.nan] * 4, "b": [1, 2, 3, 4], "y": [0, 1, 0, 1]})
    with pytest.raises(ValidationError, match="entirely missing"):
        infer_spec(df, "y")


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValidationError, match="empty"):
        read_table(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b\n")
    with pytest.raises(ValidationError, match="no rows"):
        read_table(tmp_path / "header.csv")


def test_encode_scores_unseen_categories_and_junk_as_missing() -> None:
    train = pd.DataFrame(
        {"n": [1.0, 2.0, 3.0] * 10, "c": ["a", "b", "a"] * 10, "y": [0, 1, 0] * 10}
    )
    spec = infer_spec(train, "y")
    schema = learn_schema(train, spec)
    assert schema.categories[1] == ("a", "b")
    new = pd.DataFrame({"n": ["7", "oops", None], "c": ["b", "zzz", None], "extra": [1, 2, 3]})
    x = encode(new, schema)
    assert x[0].tolist() == [7.0, 1.0]
    assert np.isnan(x[1]).all() and np.isnan(x[2]).all()
    assert encode(pd.DataFrame({"other": [1]}), schema).shape == (1, 2)


def test_derived_features_chain_and_guard_division() -> None:
    spec = spec_from_dict(
        {
            "target": "y",
            "features": {
                "a": {}, "b": {},
                "r": {"derive": {"op": "ratio", "columns": ["a", "b"]}},
                "m": {"derive": {"op": "max", "columns": ["a", "r"]}},
                "k": {"derive": {"op": "count_positive", "columns": ["a", "b"]}},
            },
        }
    )  # fmt: skip
    df = pd.DataFrame({"a": [2.0, 1.0, np.nan], "b": [4.0, 0.0, np.nan]})
    out = add_derived(df, spec)
    assert out["r"].tolist()[0] == 0.5 and np.isnan(out["r"].tolist()[1])
    assert out["m"].tolist()[:2] == [2.0, 1.0] and np.isnan(out["m"].tolist()[2])
    assert out["k"].tolist()[:2] == [2.0, 1.0]


@pytest.mark.parametrize(
    ("derive", "field", "message"),
    [
        ({"columns": ["a", "b"]}, "features.r.derive.op", "unknown operation None"),
        ({"op": "log", "columns": ["a"]}, "features.r.derive.op", "unknown operation 'log'"),
        ({"op": "ratio"}, "features.r.derive.columns", "non-empty list"),
        ({"op": "ratio", "columns": "a"}, "features.r.derive.columns", "non-empty list"),
        ({"op": "ratio", "columns": ["a"]}, "features.r.derive.columns", "ratio needs 2"),
        ({"op": "max", "columns": ["a", 3]}, "features.r.derive.columns", "must be text"),
        ({"op": "max", "columns": ["a", "r"]}, "features.r.derive.columns", "from itself"),
        ("ratio(a, b)", "features.r.derive", "must be a mapping"),
    ],
)
def test_bad_derive_block_names_the_feature_and_key(
    derive: object, field: str, message: str
) -> None:
    raw = {"target": "y", "features": {"a": {}, "b": {}, "r": {"derive": derive}}}
    with pytest.raises(ValidationError, match=message) as err:
        spec_from_dict(raw)
    assert err.value.field == field


def test_derived_feature_with_an_absent_input_column_is_refused_at_training() -> None:
    spec = spec_from_dict(
        {
            "target": "y",
            "features": {"a": {}, "r": {"derive": {"op": "ratio", "columns": ["a", "z"]}}},
        }
    )
    df = add_derived(pd.DataFrame({"a": [1.0, 2.0], "y": [0, 1]}), spec)
    with pytest.raises(ValidationError, match="input column 'z' not in data") as err:
        validate_training_frame(df, spec)
    assert err.value.field == "features.r.derive.columns"


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_read_table_sniffs_the_delimiter_and_reads_chinese_exports(
    tmp_path: Path, sep: str, encoding: str
) -> None:
    rows = [
        ["客户号", "收入", "城市", "违约"],
        ["1", "5000.5", "北京", "0"],
        ["2", "7000", "上海", "1"],
    ]
    path = tmp_path / "export.csv"
    path.write_bytes("\n".join(sep.join(r) for r in rows).encode(encoding) + b"\n")
    df = read_table(path)
    assert list(df.columns) == rows[0]
    assert df["城市"].tolist() == ["北京", "上海"]
    assert df["收入"].tolist() == [5000.5, 7000.0]


def test_read_table_keeps_quoted_separators_and_refuses_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text('name,amount,y\n"Smith; John",1,0\n"Doe; Jane",2,1\n')
    assert read_table(path)["name"].tolist() == ["Smith; John", "Doe; Jane"]
    bad = tmp_path / "binary.csv"
    bad.write_bytes(b"a,b\n\xff\xfe\x80\x81,\x82\n")
    with pytest.raises(ValidationError, match="not a readable CSV"):
        read_table(bad)


# regressions found by tests/e2e/test_model_cli_fuzz.py


def test_read_table_sniffs_the_delimiter_across_quoted_line_breaks(tmp_path: Path) -> None:
    """A quoted field holding a line break (a multi-line address) split the sniffer's lines
    unevenly, so a ';' file was read with ',' and refused as a ParserError."""
    path = tmp_path / "addresses.csv"
    path.write_text('address;amount;y\n"Main St 1\nBeijing";1,5;0\n"a;b";2;1\n"x";3;0\n')
    df = read_table(path)
    assert list(df.columns) == ["address", "amount", "y"]
    assert df["address"].tolist() == ["Main St 1\nBeijing", "a;b", "x"]


def test_read_table_drops_columns_without_header_or_value(tmp_path: Path) -> None:
    """Trailing separators ("a,b,y,") made an unnamed, empty column that training refused as
    "Unnamed: 3: column is entirely missing"; an unnamed column with values is kept."""
    path = tmp_path / "trailing.csv"
    path.write_text("a,b,y,,\n1,x,0,,5\n2,z,1,,6\n")
    assert list(read_table(path).columns) == ["a", "b", "y", "Unnamed: 4"]
    only = tmp_path / "only.csv"
    only.write_text(",\n,\n")
    with pytest.raises(ValidationError, match="no column"):
        read_table(only)


def test_read_table_allows_a_header_without_rows_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "header.csv").write_text("a,b,\n")
    df = read_table(tmp_path / "header.csv", allow_no_rows=True)
    assert df.empty and list(df.columns) == ["a", "b"]
    with pytest.raises(ValidationError, match="no rows"):
        read_table(tmp_path / "header.csv")


def test_a_header_less_index_column_is_not_a_feature(tmp_path: Path) -> None:
    """A DataFrame saved with its index starts with an unnamed 0…n-1 column: it was learned as a
    numeric feature (row order leaking into the model)."""
    path = tmp_path / "saved.csv"
    pd.DataFrame({"income": [1.0, 2.0, 3.0, 4.0] * 5, "y": [0, 1] * 10}).to_csv(path)
    df = read_table(path)
    assert "Unnamed: 0" in df.columns
    assert infer_spec(df, "y").feature_names == ["income"]


def test_a_repeated_target_header_is_refused(tmp_path: Path) -> None:
    """``y,x,y`` was read as ``y`` and ``y.1`` and the copy trained as a perfect predictor."""
    path = tmp_path / "twice.csv"
    path.write_text("y,x,y\n" + "".join(f"{i % 2},{i},{i % 2}\n" for i in range(20)))
    with pytest.raises(ValidationError, match="more than once") as err:
        infer_spec(read_table(path), "y")
    assert err.value.field == "target"
    # other repeated headers are read as pandas names them (``x``, ``x.1``) and kept
    path.write_text("x,x,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(20)))
    assert infer_spec(read_table(path), "y").feature_names == ["x", "x.1"]


def test_rows_with_more_fields_than_the_header_keep_their_columns(tmp_path: Path) -> None:
    """Rows ending in a separator the header lacks made pandas take the first field as the row
    index: every column shifted by one (``a`` read ``b``'s values, the target came out empty)."""
    path = tmp_path / "trailing_rows.csv"
    path.write_text("a,b,y\n1,x,0,\n2,z,1,\n")
    assert read_table(path).to_dict("list") == {"a": [1, 2], "b": ["x", "z"], "y": [0, 1]}
    # row names in front (R's write.table): the names are dropped, the columns stay in place
    path.write_text("a,b,y\nr1,1,x,0\nr2,2,z,1\n")
    df = read_table(path)
    assert df.to_dict("list") == {"a": [1, 2], "b": ["x", "z"], "y": [0, 1]}
    assert df.index.tolist() == [0, 1]


def test_a_ragged_file_is_refused_with_the_line_that_breaks_it(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,y\n1,2,0\n3,4,1,9\n5,6,0\n")
    with pytest.raises(ValidationError, match="Expected 3 fields in line 3, saw 4"):
        read_table(path)


@pytest.mark.parametrize("sep", [";", "|", "\t"])
def test_the_delimiter_is_sniffed_when_rows_end_in_a_separator_the_header_lacks(
    tmp_path: Path, sep: str
) -> None:
    """The sniffer wanted the header and the rows to split into the same number of fields, so such
    a file fell back to ',' and came out as one column."""
    path = tmp_path / "rows.csv"
    lines = ["a", '"b\nc"', "y"], ["1", "x", "0", ""], ["2", "z", "1", ""]
    path.write_text("\r\n".join(sep.join(r) for r in lines) + "\r\n")
    assert read_table(path).to_dict("list") == {"a": [1, 2], "b\nc": ["x", "z"], "y": [0, 1]}
