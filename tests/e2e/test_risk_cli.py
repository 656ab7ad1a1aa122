"""End to end through the real ``xindai risk`` Typer app: replay, backtest, check-rules, train."""

from __future__ import annotations

import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from xindai.cli.risk import app

runner = CliRunner()
T0 = datetime(2025, 3, 1, 19, 0, tzinfo=UTC)  # 03:00 local


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def scenario_rows() -> list[dict[str, Any]]:
    def ev(i: int, type_: str, minutes: int, **kw: Any) -> dict[str, Any]:
        at = (T0 + timedelta(minutes=minutes)).isoformat()
        return {"event_id": f"e{i}", "subject": "u1", "type": type_, "occurred_at": at, **kw}

    return [
        ev(1, "gps_reported", 0, lat=31.23, lon=121.47),
        ev(2, "address_changed", 5),
        ev(3, "address_changed", 10),
        ev(4, "address_changed", 15),
        ev(5, "gps_reported", 25, lat=43.82, lon=87.61),
        ev(6, "application_submitted", 30, amount="5000"),
        {"event_id": "e7", "subject": "u1", "type": "login", "occurred_at": "2025-03-02T04:00:00"},
    ]


def labelled_rows(days: int = 28, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    start = datetime(2025, 1, 1, tzinfo=UTC)
    n = 0
    for day in range(days):
        for subject in range(30):
            for _ in range(3):
                n += 1
                fraud = rng.random() < 0.05
                amount = rng.randint(300, 900) if fraud else rng.randint(5, 250)
                at = start + timedelta(days=day, seconds=rng.randint(0, 86399))
                rows.append(
                    {
                        "event_id": f"t{n}",
                        "subject": f"s{subject}",
                        "type": "transaction",
                        "occurred_at": at.isoformat(),
                        "amount": str(amount),
                        "terminal_id": f"k{rng.randint(0, 20)}",
                        "label": int(fraud),
                    }
                )
    rows.sort(key=lambda r: r["occurred_at"])
    return rows


def test_replay_json_counts_actions_and_dead_letters(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "e.jsonl", scenario_rows())
    result = runner.invoke(
        app, ["replay", "--events", str(events), "--json", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["decisions"] == 6 and report["dead_letters"] == 1
    assert report["actions"]["block"] >= 1
    assert report["latency_p99_us"] > 0 and report["events_per_second"] > 0
    decisions = [
        json.loads(x) for x in (tmp_path / "o" / "decisions.jsonl").read_text().splitlines()
    ]
    app_decision = next(d for d in decisions if d["event_type"] == "application_submitted")
    assert {"NIGHT_ADDRESS_CHURN", "IMPOSSIBLE_TRAVEL"} <= {
        h["rule_id"] for h in app_decision["hits"]
    }
    dead = json.loads((tmp_path / "o" / "dead_letters.jsonl").read_text())
    assert dead["field"] == "occurred_at" and "zone" in dead["reason"]


def test_replay_table_output(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "e.jsonl", scenario_rows())
    result = runner.invoke(app, ["replay", "--events", str(events)])
    assert result.exit_code == 0, result.output
    assert "latency p99" in result.output and "NIGHT_ADDRESS_CHURN" in result.output


def test_check_rules_points_at_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "name: t\nrules:\n  - id: A\n    when: address_changes_1h >= 3 and gps_sped > 500\n"
        "    action: block\n    reason_zh: 甲\n    reason_en: a\n"
    )
    result = runner.invoke(app, ["check-rules", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4:39" in result.output.replace("\n", "")
    assert "unknown indicator 'gps_sped'" in result.output
    good = runner.invoke(app, ["check-rules", "src/xindai/risk/defaults/rules.yaml"])
    assert good.exit_code == 0 and "rules" in good.output


def test_indicators_listing() -> None:
    result = runner.invoke(app, ["indicators", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) >= 37 and all(r["description_zh"] and r["description_en"] for r in rows)


def test_train_then_backtest_and_replay_with_the_model(tmp_path: Path) -> None:
    events = write_jsonl(tmp_path / "labelled.jsonl", labelled_rows())
    model_dir = tmp_path / "model"
    result = runner.invoke(
        app,
        [
            "train",
            "--events",
            str(events),
            "--out",
            str(model_dir),
            "--start",
            "2025-01-05",
            "--rounds",
            "30",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["auc"] > 0.9 and metrics["test_positives"] > 0
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "anomaly.json",
        "model.json",
        "model.txt",
    ]
    rules = tmp_path / "r.yaml"
    rules.write_text(
        "name: bt\nversion: 2\nrules:\n"
        "  - id: BIG\n    when: tx_amount > 280\n    action: review\n    weight: 10\n"
        "    reason_zh: 大额\n    reason_en: big\n"
        "  - id: MODEL\n    mode: shadow\n    when: model_score > 0.5\n    action: block\n"
        "    reason_zh: 模型\n    reason_en: model\n"
    )
    bt = runner.invoke(
        app,
        [
            "backtest",
            "--events",
            str(events),
            "--rules",
            str(rules),
            "--model",
            str(model_dir),
            "--json",
        ],
    )
    assert bt.exit_code == 0, bt.output
    report = json.loads(bt.stdout)
    assert report["rules"]["BIG"]["precision"] == 1.0 and report["rules"]["BIG"]["recall"] == 1.0
    assert report["rules"]["MODEL"]["shadow"] is True and report["rules"]["MODEL"]["hits"] > 0
    assert report["actions"]["block"] == 0  # the model rule is in shadow


def test_bad_start_date_and_missing_file_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["train", "--events", "x.jsonl", "--out", str(tmp_path), "--start", "soon"]
    )
    assert result.exit_code == 2 and "start" in result.output
    result = runner.invoke(app, ["replay", "--events", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2


@pytest.mark.skipif(
    not os.environ.get("XINDAI_TEST_REDIS_URL"), reason="XINDAI_TEST_REDIS_URL is not set"
)
def test_publish_and_worker_through_redis(tmp_path: Path) -> None:
    import redis

    url = os.environ["XINDAI_TEST_REDIS_URL"]
    prefix = f"test:risk-cli:{uuid.uuid4().hex[:8]}"
    events = write_jsonl(tmp_path / "e.jsonl", scenario_rows())
    try:
        pub = runner.invoke(
            app, ["publish", "--events", str(events), "--redis", url, "--prefix", prefix]
        )
        assert pub.exit_code == 0, pub.output
        work = runner.invoke(
            app,
            ["worker", "--redis", url, "--prefix", prefix, "--consumer", "cli", "--stop-when-idle"],
        )
        assert work.exit_code == 0, work.output
        stats = json.loads(work.stdout.strip().splitlines()[-1])
        assert stats["applied"] == 6  # the naive-timestamp event is dead-lettered
        client = redis.Redis.from_url(url)
        out = [json.loads(f[b"d"]) for _, f in client.xrange(f"{prefix}:decisions:0")]
        assert any(d["a"] == "block" for d in out) and len(out) == 6
    finally:
        client = redis.Redis.from_url(url)
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()
