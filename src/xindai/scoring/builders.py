"""Dataset builders: joins and aggregations a spec asks for by name before features are read.

Only one builder exists so far, ``zindi_superlender``: the SuperLender digital lender's loan table
joined with its customers' demographics and with behavioural aggregates of their *previous* loans
on the platform. Invariant: an aggregate for a loan uses only previous loans approved strictly before
that loan (no look-ahead), and every input row yields exactly one output row, in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from xindai.kernel import ValidationError
from xindai.scoring.frame import read_table

Builder = Callable[[pd.DataFrame, Path, Mapping[str, str]], pd.DataFrame]


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce", format="mixed")


def _read_side_table(base: Path, tables: Mapping[str, str], key: str) -> pd.DataFrame | None:
    rel = tables.get(key)
    if rel is None:
        return None
    path = base / rel
    if not path.is_file():
        raise ValidationError(f"tables.{key}", f"side table {path} not found next to the data file")
    return read_table(path)


def zindi_superlender(perf: pd.DataFrame, base: Path, tables: Mapping[str, str]) -> pd.DataFrame:
    """Loan table + demographics + previous-loan behaviour (count, on-time ratio, lateness, growth,
    borrowing rhythm, and this loan's amount, price and term against the customer's history)."""
    if "customerid" not in perf.columns:
        raise ValidationError("customerid", "the SuperLender loan table needs a customerid column")
    out = perf.copy()
    approved = (
        _dates(out["approveddate"]) if "approveddate" in out else pd.Series(pd.NaT, out.index)
    )
    loan = pd.to_numeric(out.get("loanamount"), errors="coerce")
    due = pd.to_numeric(out.get("totaldue"), errors="coerce")
    out["interest_ratio"] = (due / loan.where(loan > 0)).astype(float)
    out["referred"] = out["referredby"].notna().astype(float) if "referredby" in out else np.nan
    out["approved_hour"] = approved.dt.hour.astype(float)
    out["approved_weekday"] = approved.dt.day_of_week.astype(float)

    demo = _read_side_table(base, tables, "demographics")
    if demo is not None:
        demo = demo.drop_duplicates("customerid", keep="first").set_index("customerid")
        birth = _dates(demo["birthdate"]).reindex(out["customerid"]).to_numpy()
        out["age"] = (approved.to_numpy() - birth) / np.timedelta64(1, "D") / 365.25
        for col in (
            "bank_account_type",
            "longitude_gps",
            "latitude_gps",
            "bank_name_clients",
            "employment_status_clients",
            "level_of_education_clients",
        ):
            if col in demo.columns:
                out[col] = demo[col].reindex(out["customerid"]).to_numpy()
        out["has_demographics"] = out["customerid"].isin(demo.index).astype(float)

    prev = _read_side_table(base, tables, "prevloans")
    if prev is not None:
        out = out.join(_previous_loan_features(out, approved, prev))
    return out


def _previous_loan_features(
    perf: pd.DataFrame, approved: pd.Series, prev: pd.DataFrame
) -> pd.DataFrame:
    p = prev.copy()
    p["approved"] = _dates(p["approveddate"])
    due = _dates(p["firstduedate"]).dt.normalize()
    repaid = _dates(p["firstrepaiddate"]).dt.normalize()
    closed = _dates(p["closeddate"]).dt.normalize()
    p["days_late"] = (repaid - due).dt.days.astype(float)
    p["close_late"] = (closed - due).dt.days.astype(float)
    p["late"] = (p["days_late"] > 0).astype(float)
    p["on_time"] = (p["days_late"] <= 0).astype(float)
    p["early"] = (p["days_late"] <= -3).astype(float)
    p["closed"] = _dates(p["closeddate"])
    amount = pd.to_numeric(p["loanamount"], errors="coerce")
    p["amount"] = amount
    p["ratio"] = pd.to_numeric(p["totaldue"], errors="coerce") / amount.where(amount > 0)
    p["term"] = pd.to_numeric(p["termdays"], errors="coerce")

    cur = pd.DataFrame(
        {
            "customerid": perf["customerid"].to_numpy(),
            "cur_approved": approved.to_numpy(),
            "row": np.arange(len(perf)),
        }
    )
    merged = cur.merge(p, on="customerid", how="inner")
    # no look-ahead: only loans approved before the loan being scored
    merged = merged[merged["approved"] < merged["cur_approved"]].sort_values(["row", "approved"])
    g = merged.groupby("row", sort=True)
    first = g.first()
    last = g.last()
    feats = pd.DataFrame(
        {
            "prev_count": g.size().astype(float),
            "prev_on_time_ratio": g["on_time"].mean(),
            "prev_late_count": g["late"].sum(),
            "prev_days_late_mean": g["days_late"].mean(),
            "prev_days_late_max": g["days_late"].max(),
            "prev_close_late_mean": g["close_late"].mean(),
            "prev_close_late_max": g["close_late"].max(),
            "prev_last_days_late": last["days_late"],
            "prev_last_close_late": last["close_late"],
            "prev_amount_mean": g["amount"].mean(),
            "prev_amount_max": g["amount"].max(),
            "prev_amount_last": last["amount"],
            "prev_term_mean": g["term"].mean(),
            "prev_ratio_mean": g["ratio"].mean(),
            "tenure_days": (last["cur_approved"] - first["approved"]).dt.days.astype(float),
            "prev_early_ratio": g["early"].mean(),
            "prev_first_days_late": first["days_late"],
            "prev_recent_late_max": g["days_late"].apply(lambda s: s.tail(3).max()),
            "prev_recent_on_time": g["on_time"].apply(lambda s: s.tail(3).mean()),
            "days_since_last_close": (last["cur_approved"] - last["closed"]).dt.days.astype(float),
            "prev_gap_days_mean": g["approved"].apply(lambda s: s.diff().dt.days.mean()),
            "prev_days_late_std": g["days_late"].std(),
            "prev_term_last": last["term"],
        }
    )
    loan = pd.to_numeric(perf["loanamount"], errors="coerce").to_numpy()
    feats["amount_growth"] = loan[feats.index.to_numpy()] / feats["prev_amount_max"].where(
        feats["prev_amount_max"] > 0
    )
    feats = feats.reindex(np.arange(len(perf)))
    feats.loc[feats["prev_count"].isna(), "prev_count"] = 0.0
    feats.index = perf.index
    # the lender's own loan counter vs the history we can see, and this loan's terms vs the past
    number = pd.to_numeric(perf.get("loannumber"), errors="coerce")
    feats["loannumber_gap"] = number - 1 - feats["prev_count"]
    last_amount = feats["prev_amount_last"]
    feats["amount_vs_last"] = pd.Series(loan, index=perf.index) / last_amount.where(last_amount > 0)
    due = pd.to_numeric(perf["totaldue"], errors="coerce") if "totaldue" in perf else np.nan
    price = due / pd.Series(loan, index=perf.index).where(loan > 0)
    feats["price_change"] = price / feats["prev_ratio_mean"].where(feats["prev_ratio_mean"] > 0)
    term = pd.to_numeric(perf.get("termdays"), errors="coerce")
    feats["term_change"] = term / feats["prev_term_mean"].where(feats["prev_term_mean"] > 0)
    return feats


BUILDERS: dict[str, Builder] = {"zindi_superlender": zindi_superlender}


def build(name: str, df: pd.DataFrame, base: Path, tables: Mapping[str, str]) -> pd.DataFrame:
    if name not in BUILDERS:
        raise ValidationError("builder", f"unknown builder {name!r}; known: {sorted(BUILDERS)}")
    return BUILDERS[name](df, base, tables)
