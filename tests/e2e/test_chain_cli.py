"""End to end through the real ``xindai chain`` Typer app: build a demo bundle, verify it offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xindai.cli.chain import app

runner = CliRunner()


@pytest.fixture
def bundle_file(tmp_path: Path) -> Path:
    out = tmp_path / "bundle.json"
    result = runner.invoke(app, ["demo-bundle", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 of 3" in result.output
    return out


def test_valid_bundle_exits_zero(bundle_file: Path) -> None:
    result = runner.invoke(app, ["verify", "--bundle", str(bundle_file)])
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output and "FAIL" not in result.output
    for name in ("entry.signature", "entry.inclusion", "checkpoint.quorum"):
        assert name in result.output


def test_json_report(bundle_file: Path) -> None:
    result = runner.invoke(app, ["verify", "--bundle", str(bundle_file), "--json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["valid"] is True and len(report["checks"]) == 7


def test_tampered_bundle_exits_one_and_names_failing_checks(bundle_file: Path) -> None:
    bundle = json.loads(bundle_file.read_text())
    bundle["entry"]["data"]["body"]["area_mu"] = 999
    bundle_file.write_text(json.dumps(bundle))
    result = runner.invoke(app, ["verify", "--bundle", str(bundle_file)])
    assert result.exit_code == 1
    assert "INVALID" in result.output
    assert "entry.inclusion" in result.output and "entry.signature" in result.output
    report = json.loads(
        runner.invoke(app, ["verify", "--bundle", str(bundle_file), "--json"]).stdout
    )
    assert {c["name"] for c in report["checks"] if not c["ok"]} == {
        "entry.inclusion",
        "entry.signature",
    }


def test_pinned_keys(bundle_file: Path) -> None:
    bundle = json.loads(bundle_file.read_text())
    args = ["verify", "--bundle", str(bundle_file), "--operator-key", bundle["operator_key"]]
    for w in bundle["policy"]["witnesses"]:
        args += ["--witness", w]
    assert runner.invoke(app, [*args, "--threshold", "2"]).exit_code == 0
    assert runner.invoke(app, [*args, "--threshold", "3"]).exit_code == 1
    bad = runner.invoke(app, ["verify", "--bundle", str(bundle_file), "--operator-key", "junk"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("content", [None, "not json {", '{"format": "something else"}', "[]"])
def test_unreadable_input_exits_two(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(app, ["verify", "--bundle", str(path)])
    assert result.exit_code == 2
    assert "cannot read bundle" in result.stderr


def test_help_lists_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "verify" in result.output and "demo-bundle" in result.output


# --- on a database: demo-farm, stage-report, cosign, export-bundle -> verify, audit -------------


@pytest.fixture
def farm_db(tmp_path: Path) -> str:
    from xindai.bootstrap import upgrade_database

    url = f"sqlite:///{tmp_path}/farm.db"
    upgrade_database(url)
    result = runner.invoke(app, ["demo-farm", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "released sowing 50000.00 on 2026-03-05, growing 80000.00" in result.output
    return url


def test_farm_on_a_database(farm_db: str, tmp_path: Path) -> None:
    report = runner.invoke(app, ["stage-report", "SCF-2026-0001", "--database-url", farm_db])
    assert report.exit_code == 0, report.output
    assert "harvest" in report.output and "never" in report.output
    assert "interest saved by staging" in report.output
    as_json = json.loads(
        runner.invoke(
            app, ["stage-report", "SCF-2026-0001", "--database-url", farm_db, "--json"]
        ).stdout
    )
    assert as_json["staged"]["drawn"] == "130000.00"
    assert as_json["lump_sum"]["drawn"] == "200000.00"

    out = tmp_path / "attest.json"
    exported = runner.invoke(
        app, ["export-bundle", "--entry", "6", "--out", str(out), "--database-url", farm_db]
    )
    assert exported.exit_code == 0, exported.output
    verified = runner.invoke(app, ["verify", "--bundle", str(out), "--json"])
    assert verified.exit_code == 0 and json.loads(verified.stdout)["valid"] is True

    audit = runner.invoke(app, ["audit", "--database-url", farm_db])
    assert audit.exit_code == 0 and audit.output.startswith("OK: 16 entries")

    missing = runner.invoke(
        app, ["export-bundle", "--entry", "99", "--out", str(out), "--database-url", farm_db]
    )
    assert missing.exit_code == 2 and "entry 99" in missing.output


def test_audit_names_the_tampered_index(farm_db: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(farm_db)
    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER chain_entries_no_update"))
        conn.execute(
            text(
                "UPDATE chain_entries SET data = CAST(CAST(data AS TEXT) || ' ' AS BLOB) WHERE idx = 11"
            )
        )
    engine.dispose()
    result = runner.invoke(app, ["audit", "--database-url", farm_db])
    assert result.exit_code == 1
    assert "TAMPERED: first bad index 11" in result.output
