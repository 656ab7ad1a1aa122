"""Training the model next to the rules, with a time-ordered split and a delayed-label protocol.

``extract_features`` replays events through the engine's indicator path (the same code that runs
live, so training and serving features cannot drift) and returns one row per event in registry order.

``delayed_label_split`` is the protocol of the *Reproducible Machine Learning for Credit Card Fraud
Detection* handbook: train on ``train_days`` days from ``start``, skip ``delay_days`` (labels are not
yet known), test on the next ``test_days`` days; a customer known to be defrauded (a fraud label in
the training period, or one that became known during the test period ``delay_days`` earlier) is
removed from the test days, because a real system would already have blocked the card.

``handbook_events`` is the documented adapter from the handbook simulator's CSV to the event schema:
``TRANSACTION_ID → event_id``, ``CUSTOMER_ID → subject``, ``TERMINAL_ID → terminal_id``,
``TX_AMOUNT → amount`` (yuan, rounded half-even to fen: the file carries float artefacts), ``TX_FRAUD → label``, ``TX_DATETIME`` read as Asia/Shanghai wall-clock
time, type ``transaction``. ``TX_FRAUD_SCENARIO`` reveals the label and is never read.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from xindai.money import Rounding, round_fen
from xindai.risk.engine import RiskEngine
from xindai.risk.events import Event, EventType
from xindai.risk.geo import SHANGHAI_OFFSET_S
from xindai.risk.model import (
    GbmModel,
    RobustZAnomaly,
    average_precision,
    roc_auc,
    train_gbm,
)

_LOCAL = timedelta(seconds=SHANGHAI_OFFSET_S)


def _fen(text: str) -> int:
    """The simulator writes amounts through binary floats (``85.64999999999999``): round to fen."""
    return round_fen(Decimal(text) * 100, Rounding.HALF_EVEN)


def handbook_events(path: str | Path, limit: int | None = None) -> Iterator[Event]:
    """Events from the handbook's ``transactions.csv(.gz)`` (see module docstring)."""
    file = Path(path)
    raw = gzip.open(file, "rb") if file.suffix == ".gz" else file.open("rb")  # noqa: SIM115
    with io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        col = {name: i for i, name in enumerate(header)}
        i_id, i_dt, i_c = col["TRANSACTION_ID"], col["TX_DATETIME"], col["CUSTOMER_ID"]
        i_t, i_a, i_f = col["TERMINAL_ID"], col["TX_AMOUNT"], col["TX_FRAUD"]
        for n, row in enumerate(reader):
            if limit is not None and n >= limit:
                return
            moment = (datetime.fromisoformat(row[i_dt]) - _LOCAL).replace(tzinfo=UTC)
            yield Event(
                event_id="tx" + row[i_id],
                subject="c" + row[i_c],
                type=EventType.TRANSACTION,
                occurred_at=moment,
                ts=moment.timestamp(),
                amount_fen=_fen(row[i_a]),
                terminal_id="t" + row[i_t],
                label=1 if row[i_f] == "1" else 0,
            )


@dataclass
class FeatureTable:
    """One row per admitted event, columns in registry order."""

    names: tuple[str, ...]
    x: NDArray[np.float32]
    y: NDArray[np.int8]
    ts: NDArray[np.float64]
    subjects: list[str]


def extract_features(
    engine: RiskEngine,
    events: Iterable[Event],
    until_ts: float | None = None,
    since_ts: float | None = None,
) -> FeatureTable:
    """Replay ``events`` through the indicator path; stop at the first event after ``until_ts``.

    ``since_ts`` skips older events (a warm-up cut: windows only need their own length plus any
    label delay of history; only ``since_last`` gaps longer than the cut can differ).
    """
    names = engine.registry.names
    rows: list[list[float]] = []
    labels: list[int] = []
    stamps: list[float] = []
    subjects: list[str] = []
    for event in events:
        if until_ts is not None and event.ts > until_ts:
            break
        if since_ts is not None and event.ts < since_ts:
            continue
        if not engine.admit(event):
            continue
        values = engine.indicators(event)
        rows.append([values[n] for n in names])
        labels.append(event.label or 0)
        stamps.append(event.ts)
        subjects.append(event.subject)
    return FeatureTable(
        names,
        np.asarray(rows, dtype=np.float32).reshape(len(rows), len(names)),
        np.asarray(labels, dtype=np.int8),
        np.asarray(stamps, dtype=np.float64),
        subjects,
    )


def local_day(ts: NDArray[np.float64], origin: datetime) -> NDArray[np.int64]:
    """Local (Asia/Shanghai) day number since the local midnight ``origin`` (naive, local)."""
    origin_ts = (origin - _LOCAL).replace(tzinfo=UTC).timestamp()
    days: NDArray[np.int64] = np.floor((ts - origin_ts) / 86400).astype(np.int64)
    return days


def delayed_label_split(
    table: FeatureTable,
    start: datetime,
    train_days: int = 7,
    delay_days: int = 7,
    test_days: int = 7,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Row indices of the training and test sets under the handbook protocol."""
    day = local_day(table.ts, start)
    subjects = np.asarray(table.subjects)
    train = np.flatnonzero((day >= 0) & (day < train_days))
    known = set(subjects[train][table.y[train] == 1].tolist())
    test_parts = []
    for d in range(test_days):
        # Labels of the day `delay_days` before this test day have just become known.
        ripe = np.flatnonzero(day == train_days + d - 1)
        known |= set(subjects[ripe][table.y[ripe] == 1].tolist())
        today = np.flatnonzero(day == train_days + delay_days + d)
        keep = ~np.isin(subjects[today], list(known))
        test_parts.append(today[keep])
    test = np.concatenate(test_parts) if test_parts else np.array([], dtype=np.int64)
    return train, test


def card_precision_at_k(
    table: FeatureTable, test: NDArray[np.int64], scores: NDArray[Any], k: int = 100
) -> float:
    """Handbook's card precision@k: per test day, the share of the k riskiest cards that are fraud."""
    day = np.floor(table.ts[test] / 86400).astype(np.int64)
    subjects = np.asarray(table.subjects)[test]
    y = table.y[test]
    out = []
    for d in np.unique(day):
        mask = day == d
        best: dict[str, tuple[float, int]] = {}
        for s, sc, lab in zip(subjects[mask], scores[mask], y[mask], strict=True):
            prev = best.get(s)
            best[s] = (max(sc, prev[0]), max(int(lab), prev[1])) if prev else (float(sc), int(lab))
        top = sorted(best.values(), key=lambda v: -v[0])[:k]
        out.append(sum(lab for _, lab in top) / k)
    return float(np.mean(out)) if out else 0.0


@dataclass
class TrainResult:
    model: GbmModel
    anomaly: RobustZAnomaly
    metrics: dict[str, Any]


def train_and_evaluate(
    table: FeatureTable,
    start: datetime,
    train_days: int = 7,
    delay_days: int = 7,
    test_days: int = 7,
    rounds: int = 200,
    params: dict[str, Any] | None = None,
) -> TrainResult:
    """Fit LightGBM and the anomaly model on the training days; evaluate on the test days."""
    train, test = delayed_label_split(table, start, train_days, delay_days, test_days)
    if train.size == 0 or test.size == 0:
        raise ValueError("the protocol window selects no training or no test events")
    if table.y[train].sum() == 0:
        raise ValueError("the training period has no positive labels")
    x = table.x.astype(np.float64)
    model = train_gbm(x[train], table.y[train], table.names, params, rounds)
    anomaly = RobustZAnomaly.fit(x[train], table.names)
    scores = model.score_matrix(x[test])
    y_test = table.y[test]
    metrics: dict[str, Any] = {
        "protocol": {
            "start": start.isoformat(),
            "train_days": train_days,
            "delay_days": delay_days,
            "test_days": test_days,
        },
        "train_events": int(train.size),
        "train_positives": int(table.y[train].sum()),
        "test_events": int(test.size),
        "test_positives": int(y_test.sum()),
    }
    if 0 < y_test.sum() < y_test.size:
        metrics["auc"] = round(roc_auc(y_test, scores), 4)
        metrics["average_precision"] = round(average_precision(y_test, scores), 4)
        metrics["card_precision_at_100"] = round(card_precision_at_k(table, test, scores), 4)
        anomaly_scores = np.array(
            [anomaly.score(dict(zip(table.names, row, strict=True))) for row in x[test]]
        )
        metrics["anomaly_auc"] = round(roc_auc(y_test, anomaly_scores), 4)
    model.meta["metrics"] = metrics
    return TrainResult(model, anomaly, metrics)
