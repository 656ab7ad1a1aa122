"""Cost caps: the 24% all-in line at disclosed precision, the 36% line, and the LPR table."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xindai.compliance.caps import (
    DEFAULT_LPR_TABLE,
    CostCaps,
    LprTable,
    check_all_in_cap,
    disclosed,
    is_within_cap,
    lpr_on,
    private_lending_cap,
)
from xindai.kernel.errors import ValidationError
from xindai.kernel.findings import Severity

D = Decimal


def test_within_and_above_the_cap() -> None:
    assert check_all_in_cap(D("0.2146")) == []
    assert is_within_cap(D("0.24"))
    # fen rounding of a product priced at exactly 24% must not tip it over
    assert is_within_cap(D("0.24004999"))
    findings = check_all_in_cap(D("0.26456"))
    assert [f.severity for f in findings] == [Severity.ERROR]
    assert findings[0].message == "all-in APR 0.2646 exceeds the 24% cap"
    assert not is_within_cap(D("0.24005"))


def test_criminal_line_is_reported_too() -> None:
    findings = check_all_in_cap(D("0.40"), field_name="annual_rate")
    assert [f.field for f in findings] == ["annual_rate", "annual_rate"]
    assert "36% line" in findings[1].message


def test_configurable_caps() -> None:
    caps = CostCaps(all_in_annual=D("0.18"))
    assert not is_within_cap(D("0.20"), caps)
    assert check_all_in_cap(D("0.20"), caps)[0].message.endswith("the 18% cap")
    assert disclosed(D("0.123456"), caps) == D("0.1235")
    with pytest.raises(ValidationError):
        CostCaps(all_in_annual=D("0.40"))  # above the criminal line
    with pytest.raises(ValidationError):
        CostCaps(all_in_annual=0.24)  # type: ignore[arg-type]


@given(st.decimals(min_value=0, max_value=1, places=8))
def test_within_cap_iff_disclosed_at_most_24pct(apr: Decimal) -> None:
    assert is_within_cap(apr) == (disclosed(apr) <= D("0.24"))


def test_lpr_table() -> None:
    assert lpr_on(date(2025, 5, 20)) == D("0.0300")
    assert lpr_on(date(2025, 5, 19)) == D("0.0310")
    assert lpr_on(date(2030, 1, 1)) == D("0.0300")
    assert lpr_on(date(2019, 8, 20)) == D("0.0425")
    assert private_lending_cap(date(2026, 1, 15)) == D("0.12")
    assert private_lending_cap(date(2020, 8, 20)) == D("0.154")  # 4 × 3.85%
    with pytest.raises(ValidationError) as err:
        lpr_on(date(2019, 8, 19))
    assert err.value.field == "on"
    with pytest.raises(ValidationError):
        lpr_on(datetime(2026, 1, 1))


def test_lpr_table_from_configuration() -> None:
    table = LprTable.from_mapping({"2026-06-20": "0.0285", "2025-05-20": "0.0300"})
    assert lpr_on(date(2026, 6, 19), table) == D("0.0300")
    assert private_lending_cap(date(2026, 7, 1), table) == D("0.1140")
    assert DEFAULT_LPR_TABLE.entries[-1] == (date(2025, 5, 20), D("0.0300"))
    for bad in ({"2026-06-20": 0.0285}, {"20260620x": "0.03"}, {"2026-06-20": "3"}):
        with pytest.raises(ValidationError):
            LprTable.from_mapping(bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        LprTable(((date(2026, 1, 1), D("0.03")), (date(2025, 1, 1), D("0.03"))))
    with pytest.raises(ValidationError):
        LprTable(())
