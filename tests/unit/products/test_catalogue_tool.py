"""``python -m xindai.products.catalogue``: the product-staff check tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from xindai.products.catalogue import shipped_files_dir
from xindai.products.catalogue.__main__ import main


def test_check_lists_the_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check"]) == 0
    assert "8 product files valid" in capsys.readouterr().out


def test_check_prints_every_finding_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (shipped_files_dir() / "carbon-credit.yaml").read_text(encoding="utf-8")
    bad = text.replace("floor(carbon_tonnes_verified)", "floor(carbon_tonnes)").replace(
        'A: {6: "0.0750"', 'A: {6: "0.0500"'
    )
    (tmp_path / "carbon-credit.yaml").write_text(bad, encoding="utf-8")
    assert main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "carbon-credit.yaml: limit.formula: unknown signal 'carbon_tonnes'" in err
    assert "carbon-credit.yaml: pricing.grid.A.6: rate 0.0500 is outside" in err
    assert "2 finding(s): nothing loaded" in err


def test_limit_and_price(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["limit", "carbon-credit", "carbon_tonnes_verified=7.9"]) == 0
    assert "limit 11500.00 CNY" in capsys.readouterr().out
    assert main(["price", "consumer-instalment", "B", "12", "autopay"]) == 0
    assert "rate 0.0975" in capsys.readouterr().out
    assert main(["price", "consumer-instalment", "Z", "12"]) == 2
    assert "grade" in capsys.readouterr().err
