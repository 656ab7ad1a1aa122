"""``xindai risk …``: replay, backtest, train, run the Redis worker, publish events, check rules.

Exit status 2 on bad input (a ``ValidationError``: the message names the field, or the rule file's
line and column). The CLI composes the engine from files; it never imports the store.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from xindai.kernel import ValidationError
from xindai.risk.engine import EnginePolicy, RiskEngine, streaming_gc
from xindai.risk.model import GbmModel, RobustZAnomaly
from xindai.risk.ports import JsonlCases, JsonlDeadLetters, JsonlDecisions
from xindai.risk.registry import Registry, load_registry
from xindai.risk.replay import ColumnMapping, ReplayReport, read_rows, replay
from xindai.risk.rules import RuleSet, load_ruleset

app = typer.Typer(
    help="Real-time risk engine: replay, backtest, train, worker.", no_args_is_help=True
)
console = Console()

EventsOpt = typer.Option(
    ..., "--events", help="Event file: JSONL in the event schema, or CSV/JSONL with --mapping"
)
RulesOpt = typer.Option(None, "--rules", help="Rule file (default: the shipped rule set)")
IndicatorsOpt = typer.Option(None, "--indicators", help="Indicator registry (default: shipped)")
MappingOpt = typer.Option(None, "--mapping", help="Column mapping YAML for foreign files")
ModelOpt = typer.Option(None, "--model", help="Directory written by `xindai risk train`")
JsonOpt = typer.Option(False, "--json", help="Print JSON instead of tables")


def _fail(exc: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}", highlight=False)
    return typer.Exit(code=2)


def _mapping(path: Path | None) -> ColumnMapping | None:
    if path is None:
        return None
    if str(path) == "handbook":
        from importlib import resources

        text = (
            resources.files("xindai.risk")
            .joinpath("defaults/handbook_mapping.yaml")
            .read_text("utf-8")
        )
        import yaml

        return ColumnMapping.from_mapping(yaml.safe_load(text))
    return ColumnMapping.load(path)


def _engine(
    indicators: Path | None,
    rules: Path | None,
    model: Path | None,
    **stores: Any,
) -> tuple[Registry, RuleSet, RiskEngine]:
    registry = load_registry(indicators)
    ruleset = load_ruleset(rules, registry.names)
    gbm = GbmModel.load(model) if model is not None else None
    anomaly = None
    if model is not None and (model / "anomaly.json").exists():
        anomaly = RobustZAnomaly.from_json(json.loads((model / "anomaly.json").read_text("utf-8")))
    engine = RiskEngine(registry, ruleset, model=gbm, anomaly=anomaly, **stores)
    return registry, ruleset, engine


def _print_report(report: ReplayReport, as_json: bool, title: str) -> None:
    data = report.to_json()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    summary = Table(title=title)
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    for key in ("events", "decisions", "dead_letters", "duplicates", "too_late", "rule_errors"):
        summary.add_row(key, str(data[key]))
    for action, count in data["actions"].items():
        summary.add_row(f"action {action}", str(count))
    summary.add_row("events/s", f"{data['events_per_second']:,.0f}")
    summary.add_row("latency p50 (µs)", f"{data['latency_p50_us']:.1f}")
    summary.add_row("latency p99 (µs)", f"{data['latency_p99_us']:.1f}")
    if "flagged_precision" in data:
        summary.add_row("flagged precision", str(data["flagged_precision"]))
        summary.add_row("flagged recall", str(data["flagged_recall"]))
    console.print(summary)
    rules = Table(title="rules")
    rules.add_column("rule")
    rules.add_column("hits", justify="right")
    rules.add_column("precision", justify="right")
    rules.add_column("recall", justify="right")
    rules.add_column("mode")
    for rule_id, st in data["rules"].items():
        rules.add_row(
            rule_id,
            str(st["hits"]),
            str(st.get("precision", "-")),
            str(st.get("recall", "-")),
            "shadow" if st["shadow"] else "active",
        )
    console.print(rules)


@app.command("replay")
def replay_cmd(
    events: Path = EventsOpt,
    rules: Path | None = RulesOpt,
    indicators: Path | None = IndicatorsOpt,
    mapping: Path | None = MappingOpt,
    model: Path | None = ModelOpt,
    out: Path | None = typer.Option(
        None, "--out", help="Directory for decisions/cases/dead-letter JSONL"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Replay an event file; print counts per action, throughput and p50/p99 latency."""
    try:
        stores: dict[str, Any] = {}
        if out is not None:
            stores = {
                "decisions": JsonlDecisions(out / "decisions.jsonl"),
                "cases": JsonlCases(out / "cases.jsonl"),
                "dead_letters": JsonlDeadLetters(out / "dead_letters.jsonl"),
            }
        else:
            from xindai.risk.ports import InMemoryDecisions

            stores = {"decisions": InMemoryDecisions(keep=False)}
        _, _, engine = _engine(indicators, rules, model, **stores)
        try:
            with streaming_gc():
                report = replay(engine, read_rows(events, _mapping(mapping)), str(events))
        finally:
            for store in stores.values():
                if hasattr(store, "close"):
                    store.close()
    except (ValidationError, OSError) as exc:
        raise _fail(exc) from None
    _print_report(report, as_json, f"replay {events.name}")


@app.command("backtest")
def backtest_cmd(
    events: Path = EventsOpt,
    rules: Path | None = RulesOpt,
    indicators: Path | None = IndicatorsOpt,
    mapping: Path | None = MappingOpt,
    model: Path | None = ModelOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Replay against a rule set and report hits, precision and recall per rule (where labelled)."""
    try:
        from xindai.risk.ports import InMemoryDecisions

        _, _, engine = _engine(
            indicators,
            rules,
            model,
            decisions=InMemoryDecisions(keep=False),
            policy=EnginePolicy(open_cases=False),
        )
        report = replay(engine, read_rows(events, _mapping(mapping)), str(events))
    except (ValidationError, OSError) as exc:
        raise _fail(exc) from None
    _print_report(report, as_json, f"backtest {events.name}")


@app.command("check-rules")
def check_rules_cmd(
    rules: Path = typer.Argument(..., help="Rule file to validate"),
    indicators: Path | None = IndicatorsOpt,
) -> None:
    """Parse and compile a rule file; errors point at file:line:column."""
    try:
        registry = load_registry(indicators)
        ruleset = load_ruleset(rules, registry.names)
    except (ValidationError, OSError) as exc:
        raise _fail(exc) from None
    shadow = sum(r.shadow for r in ruleset.rules)
    typer.echo(
        f"ok: {ruleset.name} v{ruleset.version}: {len(ruleset.rules)} rules ({shadow} shadow)"
    )


@app.command("indicators")
def indicators_cmd(indicators: Path | None = IndicatorsOpt, as_json: bool = JsonOpt) -> None:
    """List the indicator registry (name, key, window, descriptions)."""
    try:
        registry = load_registry(indicators)
    except (ValidationError, OSError) as exc:
        raise _fail(exc) from None
    rows = [
        {
            "name": i.spec.name,
            "kind": i.spec.kind,
            "key": i.spec.key,
            "window": i.spec.window_text or "-",
            "description_zh": i.spec.description_zh,
            "description_en": i.spec.description_en,
        }
        for i in registry.indicators
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(rows)} indicators (registry {registry.version})")
    for col in ("name", "kind", "key", "window", "description_zh", "description_en"):
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(row[c]) for c in row))
    console.print(table)


@app.command("train")
def train_cmd(
    events: Path = EventsOpt,
    out: Path = typer.Option(
        ..., "--out", help="Directory for model.txt, model.json, anomaly.json"
    ),
    mapping: Path | None = MappingOpt,
    handbook: bool = typer.Option(
        False, "--handbook", help="Use the fast handbook-simulator adapter"
    ),
    indicators: Path | None = IndicatorsOpt,
    start: str = typer.Option("2018-07-25", "--start", help="First training day (local date)"),
    train_days: int = typer.Option(7, "--train-days"),
    delay_days: int = typer.Option(7, "--delay-days"),
    test_days: int = typer.Option(7, "--test-days"),
    rounds: int = typer.Option(200, "--rounds"),
    history_days: int | None = typer.Option(
        None, "--history-days", help="Replay only this many days before --start (warm-up cut)"
    ),
    as_json: bool = JsonOpt,
) -> None:
    """Train LightGBM + the anomaly model on a labelled event file with a time-ordered split."""
    from datetime import UTC, timedelta

    from xindai.risk.events import parse_event
    from xindai.risk.geo import SHANGHAI_OFFSET_S
    from xindai.risk.training import extract_features, handbook_events, train_and_evaluate

    try:
        first = datetime.fromisoformat(start)
    except ValueError:
        raise _fail(ValidationError("start", f"{start!r} is not a date")) from None
    try:
        registry = load_registry(indicators)
        engine = RiskEngine(registry, RuleSet("none", "0", ()))
        if handbook:
            stream: Any = handbook_events(events)
        else:
            stream = _valid_events(read_rows(events, _mapping(mapping)), parse_event)
        local = timedelta(seconds=SHANGHAI_OFFSET_S)
        until = (first - local).replace(tzinfo=UTC) + timedelta(
            days=train_days + delay_days + test_days
        )
        since = None
        if history_days is not None:
            since = ((first - local).replace(tzinfo=UTC) - timedelta(days=history_days)).timestamp()
        with console.status("replaying events through the indicators…"):
            table = extract_features(engine, stream, until.timestamp(), since)
        result = train_and_evaluate(table, first, train_days, delay_days, test_days, rounds)
    except (ValidationError, OSError, ValueError) as exc:
        raise _fail(exc) from None
    result.model.save(out)
    (out / "anomaly.json").write_text(json.dumps(result.anomaly.to_json()), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(result.metrics, indent=2))
    else:
        for key, value in result.metrics.items():
            typer.echo(f"{key}: {value}")
        typer.echo(f"saved to {out}")


def _valid_events(rows: Any, parse: Any) -> Any:
    for row in rows:
        try:
            yield parse(row)
        except ValidationError:
            continue


@app.command("publish")
def publish_cmd(
    events: Path = EventsOpt,
    mapping: Path | None = MappingOpt,
    redis_url: str = typer.Option(
        os.environ.get("XINDAI_REDIS_URL", "redis://127.0.0.1:6379/0"), "--redis"
    ),
    prefix: str = typer.Option("xindai:risk", "--prefix"),
    partitions: int = typer.Option(1, "--partitions"),
) -> None:
    """Publish an event file to the Redis partition streams (keyed by subject)."""
    import redis

    from xindai.streams.redis_streams import RedisEventProducer

    client = redis.Redis.from_url(redis_url)
    try:
        sent = RedisEventProducer(client, prefix, partitions).publish_many(
            read_rows(events, _mapping(mapping))
        )
    except (ValidationError, OSError) as exc:
        raise _fail(exc) from None
    typer.echo(f"published {sent} events to {prefix} ({partitions} partitions)")


@app.command("worker")
def worker_cmd(
    redis_url: str = typer.Option(
        os.environ.get("XINDAI_REDIS_URL", "redis://127.0.0.1:6379/0"), "--redis"
    ),
    prefix: str = typer.Option("xindai:risk", "--prefix"),
    partition: int = typer.Option(0, "--partition"),
    consumer: str = typer.Option(f"worker-{os.getpid()}", "--consumer"),
    rules: Path | None = RulesOpt,
    indicators: Path | None = IndicatorsOpt,
    model: Path | None = ModelOpt,
    checkpoint_every: int = typer.Option(
        50_000,
        "--checkpoint-every",
        help="Checkpoint (decisions + dead letters + XACK, one atomic Lua call) after this many "
        "events",
    ),
    checkpoint_interval: float = typer.Option(
        5.0,
        "--checkpoint-interval",
        help="...or after this many seconds; a crash re-delivers at most this much (exactly once)",
    ),
    snapshot_every: int = typer.Option(
        500_000,
        "--snapshot-every",
        help="Snapshot the window state (with its stream position) after this many entries; a "
        "restart loads it and silently replays the acknowledged entries after it (the stream "
        "must keep them: never trim it past the last snapshot). Equal to --checkpoint-every: "
        "state written with every acknowledgement",
    ),
    snapshot_interval: float = typer.Option(
        60.0,
        "--snapshot-interval",
        help="...or after this many seconds (and always at a clean stop)",
    ),
    batch: int = typer.Option(1000, "--batch", help="XREADGROUP COUNT per read"),
    lease_ms: int = typer.Option(10_000, "--lease-ms", help="Partition lease TTL (renewed at 1/3)"),
    stop_when_idle: bool = typer.Option(False, "--stop-when-idle"),
) -> None:
    """Consume a partition's Redis stream: consumer group, checkpoints, reclaim of dead workers."""
    import redis

    from xindai.streams.worker import LeaseLost, RiskWorker

    try:
        registry = load_registry(indicators)
        ruleset = load_ruleset(rules, registry.names)
        gbm = GbmModel.load(model) if model is not None else None
    except (ValidationError, OSError) as exc:
        raise _fail(exc) from None
    worker = RiskWorker(
        redis.Redis.from_url(redis_url),
        prefix,
        lambda: RiskEngine(registry, ruleset, model=gbm),
        partition=partition,
        consumer=consumer,
        batch=batch,
        checkpoint_every=checkpoint_every,
        checkpoint_interval_s=checkpoint_interval,
        snapshot_every=snapshot_every,
        snapshot_interval_s=snapshot_interval,
        lease_ms=lease_ms,
    )
    try:
        with streaming_gc():
            stats = worker.run(stop_when_idle=stop_when_idle)
    except LeaseLost as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(code=3) from None
    except KeyboardInterrupt:
        worker.flush()
        stats = worker.stats
    finally:
        worker.release()
    typer.echo(json.dumps(stats.__dict__))


if __name__ == "__main__":  # pragma: no cover
    app(sys.argv[1:])
