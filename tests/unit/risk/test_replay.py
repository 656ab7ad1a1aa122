import json

from xindai.risk.ports import JsonlCases, JsonlDeadLetters, JsonlDecisions
from xindai.risk.replay import ColumnMapping, read_rows, replay
from xindai.streams.bus import InProcessBus

from .helpers import engine

CSV = (
    "id,user,kind,when,yuan,term,fraud\n"
    "1,u1,transaction,2025-03-02 10:00:00,12.50,t1,0\n"
    "2,u1,transaction,2025-03-02 10:05:00,500.00,t1,1\n"
    "3,u2,transaction,2025-03-02 10:06:00,abc,t2,0\n"
    "4,u2,transaction,,1.00,t2,0\n"
    "2,u1,transaction,2025-03-02 10:05:00,500.00,t1,1\n"
)
MAPPING = {
    "timezone": "Asia/Shanghai",
    "columns": {
        "event_id": "id",
        "subject": "user",
        "type": "kind",
        "occurred_at": "when",
        "amount": "yuan",
        "terminal_id": "term",
        "label": "fraud",
    },
}


def test_csv_replay_with_mapping_reports_actions_dead_letters_and_backtest(tmp_path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(CSV)
    out = tmp_path / "out"
    stores = (
        JsonlDecisions(out / "d.jsonl"),
        JsonlCases(out / "c.jsonl"),
        JsonlDeadLetters(out / "x.jsonl"),
    )
    eng = engine(decisions=stores[0], cases=stores[1], dead_letters=stores[2])
    report = replay(eng, read_rows(path, ColumnMapping.from_mapping(MAPPING)), "events.csv")
    for store in stores:
        store.close()
    data = report.to_json()
    assert data["events"] == 5
    assert data["decisions"] == 2
    assert data["dead_letters"] == 2
    assert data["duplicates"] == 1
    assert data["actions"]["review"] == 1
    assert data["rules"]["LARGE_AMOUNT"] == {
        "hits": 1,
        "shadow": False,
        "precision": 1.0,
        "recall": 1.0,
    }
    assert data["flagged_recall"] == 1.0
    assert data["latency_p99_us"] > 0
    # The JSONL stores reload what was written.
    assert len(JsonlDecisions(out / "d.jsonl")) == 2
    assert {d.field for d in JsonlDeadLetters(out / "x.jsonl").entries()} == {
        "amount",
        "occurred_at",
    }
    assert len(JsonlCases(out / "c.jsonl").open_cases()) == 1


def test_jsonl_invalid_lines_are_dead_lettered(tmp_path) -> None:
    path = tmp_path / "e.jsonl"
    good = {"event_id": "1", "subject": "u", "type": "login", "occurred_at": "2025-01-01T00:00:00Z"}
    path.write_text(json.dumps(good) + "\n{broken\n[1,2]\n")
    eng = engine()
    report = replay(eng, read_rows(path))
    assert (report.decisions, report.dead_letters) == (1, 2)


def test_in_process_bus_delivers_decisions_in_order() -> None:
    eng = engine()
    bus = InProcessBus(eng)
    seen = []
    bus.subscribe(lambda d: seen.append(d.event_id))
    for i in range(3):
        bus.publish(
            {
                "event_id": f"e{i}",
                "subject": "u",
                "type": "login",
                "occurred_at": f"2025-01-01T00:0{i}:00Z",
            }
        )
    bus.publish({"event_id": "bad"})
    assert bus.drain() == 3
    assert seen == ["e0", "e1", "e2"]
    assert len(eng.dead_letters.entries()) == 1


def test_round_amounts_option_for_float_artefacts(tmp_path) -> None:
    path = tmp_path / "f.csv"
    path.write_text(
        "id,user,kind,when,yuan,term,fraud\n1,u1,transaction,2025-03-02 10:00:00,85.64999999999999,t,0\n"
    )
    strict = engine()
    replay(strict, read_rows(path, ColumnMapping.from_mapping(MAPPING)))
    assert strict.stats.dead_letters == 1
    lenient = engine()
    mapping = ColumnMapping.from_mapping({**MAPPING, "round_amounts": True})
    report = replay(lenient, read_rows(path, mapping))
    assert report.decisions == 1
    assert lenient.decisions.items[0].indicators["tx_amount"] == 85.65
