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
