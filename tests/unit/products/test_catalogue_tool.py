"""``xindai product``: the product-staff check tool, through the real CLI."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from xindai.cli.main import app
from xindai.products.catalogue import shipped_files_dir

runner = CliRunner()


def test_check_lists_the_shipped_files() -> None:
    r = runner.invoke(app, ["product", "check"])
    assert r.exit_code == 0, r.output
    assert "8 product files valid" in r.stdout


def test_check_prints_every_finding_and_exits_2(tmp_path: Path) -> None:
    text = (shipped_files_dir() / "carbon-credit.yaml").read_text(encoding="utf-8")
    bad = text.replace("floor(carbon_tonnes_verified)", "floor(carbon_tonnes)").replace(
        'A: {6: "0.0750"', 'A: {6: "0.0500"'
    )
    (tmp_path / "carbon-credit.yaml").write_text(bad, encoding="utf-8")
    r = runner.invoke(app, ["product", "check", str(tmp_path)])
    assert r.exit_code == 2
    assert "carbon-credit.yaml: limit.formula: unknown signal 'carbon_tonnes'" in r.stderr
    assert "carbon-credit.yaml: pricing.grid.A.6: rate 0.0500 is outside" in r.stderr
    assert "2 finding(s): nothing loaded" in r.stderr


def test_limit_and_price() -> None:
    r = runner.invoke(app, ["product", "limit", "carbon-credit", "carbon_tonnes_verified=7.9"])
    assert r.exit_code == 0 and "limit 11500.00 CNY" in r.stdout
    r = runner.invoke(
        app, ["product", "limit", "carbon-credit", "carbon_tonnes_verified=7.9", "--json"]
    )
    assert r.exit_code == 0 and '"limit": "11500.00"' in r.stdout
    r = runner.invoke(app, ["product", "price", "consumer-instalment", "B", "12", "autopay"])
    assert r.exit_code == 0 and "rate 0.0975" in r.stdout
    r = runner.invoke(app, ["product", "price", "consumer-instalment", "Z", "12"])
    assert r.exit_code == 2 and "grade" in r.stderr
    r = runner.invoke(app, ["product", "limit", "carbon-credit", "carbon_tonnes_verified"])
    assert r.exit_code == 2 and "error: signals:" in r.stderr
