import pytest

from xindai.kernel import ValidationError
from xindai.risk.registry import build_registry, parse_duration
from xindai.risk.rules import RuleFileError, build_ruleset

from .helpers import REGISTRY, RULES


def test_shipped_registry_has_at_least_37_documented_indicators() -> None:
    assert len(REGISTRY.indicators) >= 37
    for ind in REGISTRY.indicators:
        assert ind.spec.description_zh and ind.spec.description_en
    keys = {i.spec.key for i in REGISTRY.indicators}
    assert {"subject", "device", "ip", "terminal"} <= keys


def test_shipped_rules_have_at_least_30_rules_and_reasons() -> None:
    assert len(RULES.rules) >= 30
    assert any(r.shadow for r in RULES.rules)


def test_registry_reports_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        build_registry(
            {
                "indicators": [
                    {
                        "name": "a",
                        "kind": "count",
                        "window": "1x",
                        "description_zh": "甲",
                        "description_en": "a",
                    },
                    {"name": "b", "kind": "bogus"},
                ]
            }
        )
    assert info.value.field == "indicators[0] (a).window"
    assert "indicators[1] (b).kind" in info.value.reason


def test_durations() -> None:
    assert parse_duration("15m", "w") == 900
    assert parse_duration("30d", "w") == 2_592_000
    with pytest.raises(ValidationError):
        parse_duration("0h", "w")


def test_rule_file_errors_point_at_file_line_and_column() -> None:
    text = (
        "name: t\n"
        "version: 1\n"
        "rules:\n"
        "  - id: OK\n"
        "    when: tx_amount > 1\n"
        "    action: review\n"
        "    reason_zh: 好\n"
        "    reason_en: ok\n"
        "  - id: BAD\n"
        "    when: tx_amount > 1 and adress_changes_1h >= 3\n"
        "    action: block\n"
        "    reason_zh: 坏\n"
        "    reason_en: bad\n"
    )
    with pytest.raises(RuleFileError) as info:
        build_ruleset(text, REGISTRY.names, "rules.yaml")
    err = info.value
    assert (err.path, err.line, err.column) == ("rules.yaml", 10, 29)
    assert "unknown indicator 'adress_changes_1h'" in err.message
    assert str(err).startswith("rules.yaml:10:29")


def test_rule_file_block_scalar_positions() -> None:
    text = (
        "rules:\n"
        "  - id: X\n"
        "    when: |\n"
        "      tx_amount > 1 and\n"
        "      tx_amount / 0 > 2\n"
        "    action: block\n"
        "    reason_zh: x\n"
        "    reason_en: x\n"
    )
    with pytest.raises(RuleFileError) as info:
        build_ruleset(text, REGISTRY.names, "r.yaml")
    assert info.value.line == 5
    assert "division by zero" in info.value.message


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ("    action: nuke\n", "action must be one of"),
        ("    action: block\n    weight: 500\n", "weight"),
        ("    action: block\n    mode: loud\n", "mode"),
        ("    action: block\n    events: [teleport]\n", "teleport"),
    ],
)
def test_rule_fields_validated(patch: str, fragment: str) -> None:
    text = (
        "rules:\n  - id: X\n    when: tx_amount > 1\n"
        + patch
        + "    reason_zh: x\n    reason_en: x\n"
    )
    with pytest.raises(RuleFileError) as info:
        build_ruleset(text, REGISTRY.names)
    assert fragment in info.value.message


def test_invalid_yaml_is_located() -> None:
    with pytest.raises(RuleFileError) as info:
        build_ruleset("rules: [\n  - id: x\n", REGISTRY.names, "r.yaml")
    assert info.value.line >= 2
