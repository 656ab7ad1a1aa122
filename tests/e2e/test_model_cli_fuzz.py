"""Fuzzing ``xindai model train`` / ``score`` with odd real-world CSV files (Hypothesis).

Each example writes a small credit CSV (10–80 rows) full of what exports contain — duplicate,
empty, whitespace, Chinese or very long headers, ``Unnamed: 0`` index columns, trailing empty
columns, targets written as ``Y``/``N``, ``Charged Off``/``Fully Paid``, ``True``/``False`` or
``1.0``/``0.0`` (sometimes with missing values, one class or three), ``inf``/``NULL``/``1e308``/
``-0`` cells, percentages, currency, dates, booleans, one-level-per-row categoricals, constant and
all-missing columns, quoted newlines, NUL bytes — as UTF-8 (with or without a BOM) or GB 18030,
with ``,``, ``;``, tab or ``|`` separators, LF or CRLF line ends, rows ending in a separator the
header lacks, a ragged row. It runs ``train`` (``--kind scorecard`` or ``gbm``, ``--folds 2``,
sometimes ``--bad-value`` or ``--date-column``) through the real Typer app and, when that
succeeds, ``score`` on a second generated file (same columns, unseen columns only, no target, or
a header without rows).

The property (issue 3's CLI contract): exit status 0, or exit status 2 with exactly one line on
stderr that starts with ``error:``, no Python warning before it, and, for ``train``, no ``--out``
directory left behind. Any traceback (CliRunner reports it as exit status 1 with
``result.exception``) fails the test. Below the property, one focused regression test per bug
it found.

``XINDAI_FUZZ_EXAMPLES`` raises the number of examples (and draws them at random instead of the
fixed, derandomised CI sequence) for a longer bug hunt.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xindai.cli.model import app
from xindai.kernel import ValidationError
from xindai.scoring.calibration import choose_calibrator
from xindai.scoring.frame import Schema
from xindai.scoring.gbm import fit_gbm
from xindai.scoring.linear import fit_linear
from xindai.scoring.scorecard import fit_scorecard
from xindai.scoring.spec import FeatureKind

runner = CliRunner()

_HUNT = int(os.environ.get("XINDAI_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_HUNT or 60,
    deadline=None,
    derandomize=not _HUNT,
    database=None,  # nothing written into the checkout
    # no shrinking: every example trains a model, and shrinking a failure took over five minutes;
    # the failing file is printed as generated (a Table: header, kinds, rows, format)
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def sometimes(one_in: int) -> st.SearchStrategy[bool]:
    """True about once in ``one_in`` draws (``integers(0, k) == 0`` is drawn far more often:
    Hypothesis favours boundary values)."""
    return st.sampled_from([False] * (one_in - 1) + [True])


# ---------------------------------------------------------------------------------------------
# cells

NASTY = [
    "", " ", "NULL", "null", "NA", "N/A", "nan", "NaN", "None", "-", "?", "inf", "-inf",
    "Infinity", "1e308", "-1e308", "1e309", "-0", "-0.0", "5e-324", "0x1F", "12%", "$1,000",
    "¥3,000", "1,5", "2019-03-01", "Mar-2019", "01/02/2011", "中文", "北京", "  padded  ",
    'say "hi"', "a,b", "a;b", "line\nbreak", "tab\there", "x\u2028y", "True", "FALSE", "é",
    "😀", "x" * 300, "1" * 40, "nul\x00byte", "=1+1",
]  # fmt: skip
HEADERS = [
    "", " ", "  spaced  ", "中文列名", "收入(元)", "x" * 300, "Unnamed: 0", '"quoted"', "a,b",
    "a;b", "with\nnewline", "NULL", "nan", "1", "amount", "amount", "月收入", "😀",
]  # fmt: skip
TARGET_LABELS = [
    ("1", "0"), ("1.0", "0.0"), ("Y", "N"), ("Charged Off", "Fully Paid"), ("True", "False"),
    ("bad", "good"), ("yes", "no"), ("违约", "正常"), ("1", "2"),
]  # fmt: skip
#: column kinds; the ordinary ones are listed several times so that most files get past validation
#: and reach the model fits
COLUMN_KINDS = [
    "num", "num", "num", "int", "int", "cat", "cat", "idlike", "bool", "pct", "money", "date",
    "mixed", "mixed", "const_nan", "all_nan", "const", "nasty", "huge", "huge", "unicode_cat",
]  # fmt: skip


@st.composite
def column(draw: st.DrawFn, n: int, kind: str) -> list[str]:
    """``n`` cells of one column of the given kind (``""`` is an empty cell). Ordinary values come
    from a seeded NumPy generator (Hypothesis' own simplest lists are all zeros — a constant column
    the inference drops); the nasty ones from Hypothesis, which can shrink them."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "num":
        cells = [
            repr(float(v)) for v in rng.normal(draw(st.sampled_from([0.0, 5e3, -1.0])), 2.0, n)
        ]
    elif kind == "int":
        cells = [str(v) for v in rng.integers(0, 6, n)]
    elif kind in ("cat", "unicode_cat"):
        pool = (
            ["A11", "A12", "rent", "own", "mortgage"]
            if kind == "cat"
            else ["北京", "上海", "é", "😀", " a "]
        )
        levels = draw(st.integers(1, len(pool)))
        cells = [pool[i] for i in rng.integers(0, levels, n)]
    elif kind == "idlike":
        cells = [f"C{i:05d}" for i in range(n)]
    elif kind == "bool":
        cells = [["True", "False"][i] for i in rng.integers(0, 2, n)]
    elif kind == "pct":
        cells = [f"{v:.2f}%" for v in rng.uniform(0, 40, n)]
    elif kind == "money":
        cells = [f"${v:,.0f}" for v in rng.lognormal(9, 1, n)]
    elif kind == "date":
        stamps = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")
        fmt = draw(st.sampled_from(["%Y-%m-%d", "%b-%Y", "%m/%d/%Y"]))
        cells = [s.strftime(fmt) for s in stamps]
    elif kind == "mixed":
        cells = draw(
            st.lists(
                st.one_of(st.integers(-100, 100).map(str), st.sampled_from(NASTY)),
                min_size=n, max_size=n,
            )
        )  # fmt: skip
    elif kind == "const_nan":
        cells = ["7"] * n
        cells[draw(st.integers(0, n - 1))] = ""
    elif kind == "all_nan":
        cells = [draw(st.sampled_from(["", "NULL", "nan", "NA"]))] * n
    elif kind == "const":
        cells = [draw(st.sampled_from(["1", "x", "中"]))] * n
    elif kind == "nasty":
        cells = draw(st.lists(st.sampled_from(NASTY), min_size=n, max_size=n))
    else:  # huge
        cells = draw(
            st.lists(
                st.sampled_from(["1e308", "-1e308", "-0.0", "5e-324", "1.7976931348623157e308", "0"]),
                min_size=n, max_size=n,
            )
        )  # fmt: skip
    if kind not in ("all_nan", "const_nan", "const", "idlike") and draw(st.booleans()):
        holes = draw(st.sets(st.integers(0, n - 1), max_size=max(1, n // 4)))
        cells = ["" if i in holes else c for i, c in enumerate(cells)]
    return cells


@st.composite
def target_column(draw: st.DrawFn, n: int) -> list[str]:
    """The target: one, two or three classes, few bads sometimes, missing values sometimes."""
    bad, good = draw(st.sampled_from(TARGET_LABELS))
    classes = draw(st.sampled_from([2, 2, 2, 2, 1, 3]))
    n_bad = draw(st.sampled_from([n // 3, n // 2, 5, n - 5, 4, 1]))
    cells = [bad if i < n_bad else good for i in range(n)]
    if classes == 1:
        cells = [good] * n
    elif classes == 3:
        cells[-1] = "unknown"
    cells = draw(st.permutations(cells))
    if draw(sometimes(5)):
        holes = draw(st.sets(st.integers(0, n - 1), max_size=n // 5))
        cells = ["" if i in holes else c for i, c in enumerate(cells)]
    return list(cells)


# ---------------------------------------------------------------------------------------------
# files


@dataclass(frozen=True)
class Table:
    header: list[str]
    kinds: list[str]  # per column ("target" for the target)
    rows: list[list[str]]
    sep: str = ","
    encoding: str = "utf-8"
    crlf: bool = False
    trailing_sep: bool = False  # "a,b,c," lines: an unnamed, empty last column
    rows_trailing_sep: bool = False  # "1,2,3," rows under an "a,b,c" header
    ragged: bool = False  # one row with a field too many
    header_only: bool = False

    def write(self, path: Path) -> None:
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter=self.sep, lineterminator="\r\n" if self.crlf else "\n")
        extra = [""] if self.trailing_sep else []
        writer.writerow(self.header + extra)
        if not self.header_only:
            tail = [""] if self.rows_trailing_sep else []
            for i, row in enumerate(self.rows):
                writer.writerow(row + extra + tail + (["9"] if self.ragged and i == 1 else []))
        path.write_bytes(buf.getvalue().encode(self.encoding))


@st.composite
def file_format(draw: st.DrawFn) -> dict[str, object]:
    return {
        "sep": draw(st.sampled_from([",", ",", ";", "\t", "|"])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])),
        "crlf": draw(st.booleans()),
        "trailing_sep": draw(sometimes(6)),
        "rows_trailing_sep": draw(sometimes(10)),
        "ragged": draw(sometimes(20)),
    }


@st.composite
def training_table(draw: st.DrawFn) -> tuple[Table, str]:
    """A training file and the ``--target`` to pass."""
    n = draw(st.integers(10, 80))
    n_features = draw(st.sampled_from([3, 2, 4, 1, 5, 0]))
    kinds = [draw(st.sampled_from(COLUMN_KINDS)) for _ in range(n_features)]
    header = [
        draw(st.one_of(st.just(f"f{i}_{k}"), st.sampled_from(HEADERS))) for i, k in enumerate(kinds)
    ]
    columns = [draw(column(n, k)) for k in kinds]
    target_name = draw(st.sampled_from(["y", "y", "违约标志", "loan_status", " y ", "amount"]))
    pos = draw(st.integers(0, n_features))
    header.insert(pos, target_name)
    kinds.insert(pos, "target")
    columns.insert(pos, draw(target_column(n)))
    if draw(sometimes(6)):  # a pandas-style index column in front
        header.insert(0, draw(st.sampled_from(["", "Unnamed: 0"])))
        kinds.insert(0, "index")
        columns.insert(0, [str(i) for i in range(n)])
    rows = [list(r) for r in zip(*columns, strict=True)]
    table = Table(header, kinds, rows, header_only=draw(sometimes(16)), **draw(file_format()))  # type: ignore[arg-type]
    return table, target_name


@st.composite
def scoring_table(draw: st.DrawFn, train: Table) -> Table:
    """A file to score: new rows with the training columns (target present or not), only unseen
    columns, or a header without rows."""
    mode = draw(st.sampled_from(["same", "same", "no_target", "unseen", "header_only"]))
    n = draw(st.integers(1, 40))
    kinds = [k for k in train.kinds if not (mode == "no_target" and k == "target")]
    header = [
        h
        for h, k in zip(train.header, train.kinds, strict=True)
        if not (mode == "no_target" and k == "target")
    ]
    if mode == "unseen":
        header = [f"never_seen_{i}" for i in range(len(kinds))]
    columns = [
        draw(target_column(n)) if k == "target" else [str(i) for i in range(n)] if k == "index"
        else draw(column(n, k))
        for k in kinds
    ]  # fmt: skip
    rows = [list(r) for r in zip(*columns, strict=True)] if columns else [[] for _ in range(n)]
    fmt = draw(file_format())
    return replace(
        train, header=header, kinds=kinds, rows=rows, header_only=mode == "header_only", **fmt
    )  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# the property


def invoke(args: list[str]) -> tuple[Result, list[str]]:
    """Run the CLI; also the warnings it raised (each would be lines on a real stderr — pytest's
    own capture would otherwise swallow them)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = runner.invoke(app, args)
    return result, [f"{w.category.__name__}: {w.message}" for w in caught]


def assert_clean(result: Result, out: Path | None, what: str) -> None:
    """Exit 0, or exit 2 with one ``error:`` line on stderr and (for train) nothing written."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{what}: traceback") from result.exception
    assert result.exit_code in (0, 2), (what, result.exit_code, result.output)
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (what, result.stderr)
        if out is not None:
            assert not out.exists(), (what, "model directory left behind", result.stderr)


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["scorecard", "gbm"]), as_json=st.booleans())
def test_train_and_score_never_traceback(data: st.DataObject, kind: str, as_json: bool) -> None:
    table, target = data.draw(training_table(), label="training file")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        train_csv, model = root / "train.csv", root / "model"
        table.write(train_csv)
        args = ["train", "--data", str(train_csv), "--target", target, "--kind", kind,
                "--folds", "2", "--out", str(model)] + (["--json"] if as_json else [])  # fmt: skip
        target_values = [r[table.kinds.index("target")] for r in table.rows]
        bad_value = data.draw(
            st.sampled_from([None, None, None, "unknown", *target_values[:3]]), label="--bad-value"
        )
        if bad_value is not None:
            args += ["--bad-value", bad_value]
        names = [h for h, k in zip(table.header, table.kinds, strict=True) if k != "target"]
        date_column = data.draw(st.sampled_from([None] * 6 + names[:3] + ["absent"]), label="date")
        if date_column is not None:
            args += ["--date-column", date_column]
        result, warned = invoke(args)
        assert_clean(result, model, "train")
        assert result.exit_code == 0 or not warned, ("train", warned, result.stderr)
        for w in warned:
            event(f"train warning: {w[:80]}")
        event(f"train exit {result.exit_code}: {result.stderr[:40] if result.exit_code else ''}")
        if result.exit_code != 0:
            return
        assert (model / "model.json").is_file()
        new = data.draw(scoring_table(table), label="scoring file")
        score_csv, scores = root / "new.csv", root / "out" / "scores.csv"
        new.write(score_csv)
        result, warned = invoke(
            ["score", "--model", str(model), "--data", str(score_csv), "--out", str(scores)]
        )
        assert_clean(result, None, "score")
        for w in warned:
            event(f"score warning: {w[:80]}")
        if result.exit_code == 0:
            written = pd.read_csv(scores)
            assert list(written.columns) == ["pd", "score", "reasons"]
            # (the csv module writes a lone empty field as "", so no row is a blank line)
            assert len(written) == (0 if new.header_only else len(new.rows))
            assert written["pd"].between(0, 1).all()


# ---------------------------------------------------------------------------------------------
# regressions: each bug the fuzzing found, as one focused case (the reading-side ones are in
# tests/unit/scoring/test_spec_frame.py)


def _xy(n: int = 60, n_bad: int = 20) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    y = np.zeros(n, dtype=np.int64)
    y[:n_bad] = 1
    x = np.column_stack([rng.choice([1e308, -1e308, 0.0, 5.0], n), rng.normal(size=n) + y])
    return x, y


def test_scorecard_bins_a_column_holding_1e308() -> None:
    """optbinning pre-bins in float32, where 1e308 is inf: ``ValueError: Input X contains infinity
    or a value too large for dtype('float32')``."""
    x, y = _xy()
    schema = Schema(("big", "signal"), (FeatureKind.NUMERIC,) * 2, ((), ()))
    card = fit_scorecard(x, y, schema)
    assert np.isfinite(card.score(x)).all()


def test_linear_member_leaves_out_a_column_it_cannot_standardise() -> None:
    """Mean and spread of ±1e308 overflow: ``LogisticRegression does not accept missing values
    encoded as NaN``. The column is left out; with no usable column the model is the base rate."""
    x, y = _xy()
    schema = Schema(("big", "signal"), (FeatureKind.NUMERIC,) * 2, ((), ()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings on stderr either
        model = fit_linear(x, y, schema)
        assert [t.index for t in model.terms] == [1]
        alone = fit_linear(x[:, :1], y, Schema(("big",), (FeatureKind.NUMERIC,), ((),)))
    assert alone.terms == () and alone.logit(x[:, :1]) == pytest.approx(np.log(20 / 40))


@pytest.mark.parametrize("n_bad", [1, 2, 3])
def test_gbm_fits_a_training_fold_with_fewer_bads_than_inner_folds(n_bad: int) -> None:
    """With 5 bads and ``--folds 2`` (or 3) an outer training fold holds 2–3 bads, and the inner
    4-fold ``lgb.cv`` raised ``n_splits=4 cannot be greater than the number of members``."""
    x, y = _xy(n=40, n_bad=n_bad)
    booster = fit_gbm(x, y, [], profile="flexible")
    assert booster.num_trees() >= 1


def _small_csv(path: Path, extra: str = "") -> Path:
    rng = np.random.default_rng(3)
    y = np.array([1, 0, 0] * 20)
    df = pd.DataFrame({"income": rng.normal(size=60) - y, "city": rng.choice(["a", "b"], 60)})
    if extra:
        df[extra] = np.nan
    df["y"] = y
    df.to_csv(path, index=False)
    return path


def test_errors_are_one_line_even_when_a_column_name_has_a_line_break(tmp_path: Path) -> None:
    """``guarded`` kept only the first line of the message: ``error: with`` — no reason at all."""
    data = _small_csv(tmp_path / "t.csv", extra="with\nnewline")
    out = tmp_path / "m"
    result, _ = invoke(["train", "--data", str(data), "--target", "y", "--kind", "scorecard",
                        "--folds", "2", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2
    assert (
        result.stderr
        == "error: with newline: column is entirely missing; drop it or fix the file\n"
    )
    assert not out.exists()


def test_out_that_is_a_file_is_refused_before_training(tmp_path: Path) -> None:
    """Was ``error: FileExistsError: [Errno 17] …`` after the whole training run."""
    data = _small_csv(tmp_path / "t.csv")
    out = tmp_path / "m"
    out.write_text("not a directory")
    result, _ = invoke(["train", "--data", str(data), "--target", "y", "--kind", "scorecard",
                        "--folds", "2", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2 and result.stderr.startswith("error: out: ")
    assert "fold" not in result.stderr  # refused before any fit
    assert out.read_text() == "not a directory"


def test_model_is_written_whole_and_a_batch_without_rows_scores_to_an_empty_file(
    tmp_path: Path,
) -> None:
    """The model directory appears complete (no staging directory left beside it), and scoring a
    header-only file was ``error: data: … has a header but no rows`` — an empty day's batch."""
    data = _small_csv(tmp_path / "t.csv")
    out = tmp_path / "m"
    result, _ = invoke(["train", "--data", str(data), "--target", "y", "--kind", "scorecard",
                        "--folds", "2", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "t.csv"]
    assert (out / "model.json").is_file()
    empty = tmp_path / "empty.csv"
    empty.write_text("income,city,y\n")
    scores = tmp_path / "s.csv"
    result, _ = invoke(["score", "--model", str(out), "--data", str(empty), "--out", str(scores)])
    assert result.exit_code == 0, result.output
    assert scores.read_text().splitlines() == ["pd,score,reasons"]
    # training again into the same directory replaces the model in place
    result, _ = invoke(["train", "--data", str(data), "--target", "y", "--kind", "scorecard",
                        "--folds", "3", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "m", "s.csv", "t.csv"]


def test_out_of_time_test_part_with_few_bads_is_calibrated_or_refused(tmp_path: Path) -> None:
    """The calibration is chosen by a 5-fold cross-fit on the out-of-time test part; with 2–4 bads
    there it raised ``n_splits=5 cannot be greater than the number of members in each class``. Now
    it uses as many folds as there are bads, and refuses a test part with a single bad."""
    rng = np.random.default_rng(5)
    logit = rng.normal(size=30)
    y = np.zeros(30, dtype=np.int64)
    y[:3] = 1
    calibrator, losses = choose_calibrator(logit, y)
    assert set(losses) == {"platt", "isotonic"}
    assert np.all((calibrator(logit) > 0) & (calibrator(logit) < 1))
    y1 = np.zeros(30, dtype=np.int64)
    y1[0] = 1
    with pytest.raises(ValidationError, match="need at least 2"):
        choose_calibrator(logit, y1)
    # through the CLI: bads only among the earliest rows → refused before any fit, naming the option
    n = 60
    df = pd.DataFrame(
        {"income": rng.normal(size=n), "month": np.arange(n), "y": (np.arange(n) < 10).astype(int)}
    )
    df.loc[55, "y"] = 1  # one bad among the latest 20%
    df.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "m"
    result, _ = invoke(["train", "--data", str(tmp_path / "t.csv"), "--target", "y", "--kind",
                        "scorecard", "--date-column", "month", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2 and result.stderr.startswith("error: date_column: ")
    assert "holds 1 row(s) of one class" in result.stderr and not out.exists()
    df.loc[56, "y"] = 1  # two: trained, calibrated with 2 folds
    df.to_csv(tmp_path / "t.csv", index=False)
    result, _ = invoke(["train", "--data", str(tmp_path / "t.csv"), "--target", "y", "--kind",
                        "scorecard", "--date-column", "month", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
