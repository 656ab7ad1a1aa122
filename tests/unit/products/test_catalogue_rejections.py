"""A bad product file is rejected at load with every finding, naming file, field and reason.

One case per rejection rule: each mutates a valid shipped file in one way and expects a finding on
the named field whose reason contains the given words.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from xindai.products.catalogue import CatalogueError, load_catalogue, parse_files, shipped_files_dir
from xindai.products.loan_product import load_catalogue as load_loan_products

LOANS = load_loan_products()
FILES = {p.name: p.read_text(encoding="utf-8") for p in shipped_files_dir().glob("*.yaml")}


def raw(name: str = "consumer-instalment.yaml") -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(FILES[name]))


def findings(
    mutate: Callable[[dict[str, Any]], object],
    name: str = "consumer-instalment.yaml",
    loans: dict[str, Any] | None = None,
) -> list[tuple[str, str]]:
    doc = raw(name)
    mutate(doc)
    texts = dict(FILES)
    texts[name] = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    _, found = parse_files(texts, LOANS if loans is None else loans)
    # (a broken base product also breaks what is priced relative to it: only ``name`` is checked)
    return [(f.field, f.reason) for f in found if f.file == name]


def _key(node: Any, key: str) -> Any:
    if key.isdigit() and (isinstance(node, list) or int(key) in node):
        return int(key)
    return key


def setter(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        node: Any = doc
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[_key(node, key)]
        node[_key(node, keys[-1])] = value

    return mutate


def test_the_shipped_files_have_no_findings() -> None:
    assert parse_files(FILES, LOANS)[1] == []


CASES: list[tuple[str, Callable[[dict[str, Any]], object], str, str]] = [
    ("unknown key", setter("colour", "red"), "colour", "unknown key"),
    ("bad code", setter("code", "Consumer Instalment"), "code", "slug"),
    ("name needs both languages", setter("name", {"zh": "消费分期"}), "name", "zh and an en"),
    (
        "unknown loan product",
        setter("loan_product", "gold-loan"),
        "loan_product",
        "unknown loan product 'gold-loan'",
    ),
    (
        "term not allowed by the loan product",
        setter("terms", [3, 6, 12, 24, 36, 48]),
        "terms",
        "term 48 is not offered by loan product consumer-instalment",
    ),
    (
        "method not offered",
        setter("methods", ["equal-installment", "bullet"]),
        "methods",
        "method 'bullet' is not offered",
    ),
    (
        "unknown signal",
        setter("limit.formula", "6 * salary_yuan"),
        "limit.formula",
        "unknown signal 'salary_yuan'",
    ),
    (
        "expression outside the language",
        setter("limit.formula", "__import__('os').getpid()"),
        "limit.formula",
        "unknown function",
    ),
    (
        "expression type error",
        setter("limit.formula", "monthly_income_yuan > 3000"),
        "limit.formula",
        "yields a bool but a number is needed",
    ),
    (
        "signal from an undeclared source",
        setter("limit.formula", "20 * travel_mileage_km"),
        "limit.formula",
        "travel-platform, which the product does not declare",
    ),
    (
        "missing grid cell",
        lambda d: d["pricing"]["grid"]["C"].pop(12),
        "pricing.grid.C.12",
        "missing",
    ),
    ("missing grade", lambda d: d["pricing"]["grid"].pop("E"), "pricing.grid.E", "every grade A–E"),
    ("unknown grade", setter("pricing.grid.F", {3: "0.2"}), "pricing.grid.F", "unknown risk grade"),
    ("float rate", setter("pricing.grid.A.3", 0.072), "pricing.grid.A.3", "quoted"),
    (
        "rate outside the loan product's range",
        setter("pricing.grid.A.3", "0.05"),
        "pricing.grid.A.3",
        "outside loan product consumer-instalment's range 0.072–0.18",
    ),
    (
        "fees differ from the loan product",
        setter("fees.monthly_rate", "0.005"),
        "fees.monthly_rate",
        "differs from loan product",
    ),
    (
        "bad discount",
        setter("pricing.discounts.autopay.rate_off", "0.5"),
        "pricing.discounts.autopay.rate_off",
        "between 0 and 0.1",
    ),
    (
        "grid and relative pricing together",
        setter("pricing.relative_to", "bnpl"),
        "pricing",
        "either grid or relative_to",
    ),
    (
        "unknown data source",
        setter("data_sources.0.name", "wechat-friends"),
        "data_sources[0].name",
        "unknown data source",
    ),
    (
        "prohibited data source category",
        setter("data_sources.0.category", "prohibited"),
        "data_sources[0].category",
        "prohibited data may not be collected",
    ),
    (
        "sensitive source declared ordinary",
        setter("data_sources.0.category", "ordinary"),
        "data_sources[0].category",
        "declare it sensitive",
    ),
    (
        "third-party flag missing",
        lambda d: d["data_sources"][1].pop("third_party"),
        "data_sources[1].third_party",
        "true or false",
    ),
    (
        "unknown purpose",
        setter("data_sources.0.purpose", "marketing"),
        "data_sources[0].purpose",
        "must be one of",
    ),
    (
        "sandbox without regions",
        lambda d: d.update(sandbox=True),
        "regions",
        "must list its pilot regions",
    ),
    ("bad region code", setter("regions", ["990000"]), "regions[0]", "not a GB/T 2260 code"),
    ("unknown region name", setter("regions", ["Atlantis"]), "regions[0]", "unknown region"),
    (
        "limit above the loan product's maximum",
        setter("limit.max", "300000"),
        "limit.max",
        "exceeds loan product consumer-instalment's max principal",
    ),
    (
        "limit min above max",
        setter("limit.min", "250000"),
        "limit.min",
        "must not be above limit.max",
    ),
    (
        "adjustment factor",
        setter(
            "limit.adjustments",
            [
                {
                    "when": "monthly_income_yuan > 1",
                    "multiply": "3",
                    "flag": "x",
                    "reason": {"zh": "z", "en": "e"},
                }
            ],
        ),
        "limit.adjustments[0].multiply",
        "(0, 2]",
    ),
    (
        "warning condition must be a condition",
        setter(
            "limit.warnings",
            [{"when": "monthly_income_yuan", "flag": "low", "reason": {"zh": "z", "en": "e"}}],
        ),
        "limit.warnings[0].when",
        "yields a number but a bool is needed",
    ),
    (
        "lesson too short",
        setter("education.min_watch_seconds", 30),
        "education.min_watch_seconds",
        "too short",
    ),
    (
        "quiz answer out of range",
        setter("education.quiz.0.answer", 7),
        "education.quiz[0].answer",
        "index",
    ),
    (
        "pass mark above the questions",
        setter("education.pass_mark", 5),
        "education.pass_mark",
        "more than the 2 questions",
    ),
    ("under-age borrowers", setter("eligibility.min_age", 16), "eligibility.min_age", "adults"),
    (
        "unknown segment",
        setter("eligibility.segments", ["students"]),
        "eligibility.segments",
        "unknown segment",
    ),
    (
        "eligibility rule on a prohibited signal",
        setter(
            "eligibility.rules",
            [{"require": "medical_history_conditions == 0", "reason": {"zh": "z", "en": "e"}}],
        ),
        "eligibility.rules[0].require",
        "can never be a credit feature",
    ),
    (
        "stages on a single-tranche loan product",
        setter(
            "stages",
            [
                {
                    "code": "a",
                    "share": "1",
                    "attestation": "a-done",
                    "label": {"zh": "甲", "en": "A"},
                }
            ],
        ),
        "stages",
        "not multi-tranche",
    ),
    ("score model label", setter("score_model", "newest"), "score_model", "registry label"),
]


@pytest.mark.parametrize(
    ("mutate", "field", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rejection_rule(
    mutate: Callable[[dict[str, Any]], object], field: str, reason: str
) -> None:
    found = findings(mutate)
    assert any(f == field and reason in r for f, r in found), found


def test_a_formula_naming_health_data_is_rejected_as_prohibited() -> None:
    found = findings(
        setter(
            "limit.formula", "min(treatment_plan_amount_yuan, 50000 if diagnosis_code == 1 else 0)"
        ),
        "medical-credit.yaml",
    )
    assert found == [
        (
            "limit.formula",
            "signal 'diagnosis_code' is prohibited data (Diagnosis code) and can never be a credit "
            "feature (征信业管理条例 Art. 14)",
        )
    ]
    perk = findings(setter("perks.0.when", "treatment_department == 3"), "medical-credit.yaml")
    assert perk and perk[0][0] == "perks[0].when" and "prohibited" in perk[0][1]


def test_grid_rate_plus_fees_over_the_cap_is_rejected() -> None:
    # a loan product charging 1.2%/month flat: 12 × 1.2% × 2n/(n+1) ≈ 26.6% for 12 months alone
    loans = dict(LOANS)
    loans["bnpl-flat-fee"] = replace(LOANS["bnpl-flat-fee"], monthly_fee_rate=Decimal("0.012"))

    def fees(doc: dict[str, Any]) -> None:
        doc["fees"]["monthly_rate"] = "0.012"

    found = findings(fees, "bnpl.yaml", loans)
    assert (
        "pricing.grid.A.12",
        "rate 0 + fee-equivalent 0.265847 = 0.265847 exceeds the all-in cap 0.24",
    ) in found
    # 3 months: 0.144 × 6/4 = 0.216 — within the cap, so not reported
    assert not any(f.startswith("pricing.grid.A.3") for f, _ in found)


def test_grid_rate_over_the_cap_is_rejected_even_if_the_loan_product_allowed_it() -> None:
    loans = dict(LOANS)
    loans["consumer-instalment"] = replace(LOANS["consumer-instalment"], max_rate=Decimal("0.30"))
    found = findings(setter("pricing.grid.E.36", "0.2450"), loans=loans)
    assert (
        "pricing.grid.E.36",
        "rate 0.2450 + fee-equivalent 0.000000 = 0.245000 exceeds the all-in cap 0.24",
    ) in found


def test_relative_pricing_must_name_a_product_with_a_grid() -> None:
    found = findings(setter("pricing.relative_to", "gold-credit"), "travel-credit.yaml")
    assert ("pricing.relative_to", "unknown catalogue product 'gold-credit'") in found
    found = findings(setter("pricing.factor", "1.2"), "travel-credit.yaml")
    assert any(f == "pricing.factor" and "(0, 1]" in r for f, r in found)


def test_stage_shares_must_sum_to_one() -> None:
    found = findings(setter("stages.2.share", "0.30"), "supply-chain-line.yaml")
    assert ("stages", "the shares add up to 0.95, not 1") in found


def test_not_yaml_not_a_mapping_and_duplicate_codes() -> None:
    loans = LOANS
    _, found = parse_files({"a.yaml": "code: [unclosed", "b.yaml": "- a list"}, loans)
    assert [(f.file, f.field) for f in found] == [("a.yaml", "(file)"), ("b.yaml", "(file)")]
    assert "not valid YAML" in found[0].reason and "mapping" in found[1].reason
    texts = {"one.yaml": FILES["bnpl.yaml"], "two.yaml": FILES["bnpl.yaml"]}
    _, found = parse_files(texts, loans)
    assert [(f.file, f.field, f.reason) for f in found] == [
        ("two.yaml", "code", "duplicate product code 'bnpl' (also in one.yaml)")
    ]


def test_load_reports_every_finding_of_every_file_at_once(tmp_path: Path) -> None:
    bad = raw()
    bad["loan_product"] = "gold-loan"
    bad["limit"]["formula"] = "6 * salary_yuan"
    bad["education"]["min_watch_seconds"] = 10
    (tmp_path / "consumer-instalment.yaml").write_text(
        yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8"
    )
    (tmp_path / "bnpl.yaml").write_text(
        FILES["bnpl.yaml"].replace("score_model: champion", "score_model: best"), encoding="utf-8"
    )
    with pytest.raises(CatalogueError) as err:
        load_catalogue(tmp_path)
    got = {(f.file, f.field) for f in err.value.findings}
    assert {
        ("consumer-instalment.yaml", "loan_product"),
        ("consumer-instalment.yaml", "limit.formula"),
        ("consumer-instalment.yaml", "education.min_watch_seconds"),
        ("bnpl.yaml", "score_model"),
    } <= got
    assert err.value.field == "bnpl.yaml: score_model"  # files in name order; the message lists all
    assert "consumer-instalment.yaml: loan_product: unknown loan product 'gold-loan'" in str(
        err.value
    )


def test_an_empty_or_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"no \*\.yaml product files"):
        load_catalogue(tmp_path)
    with pytest.raises(ValueError, match="not a directory"):
        load_catalogue(tmp_path / "missing")


def test_the_lesson_defaults_to_five_minutes() -> None:
    doc = raw("bnpl.yaml")
    del doc["education"]["min_watch_seconds"]
    texts = {"bnpl.yaml": yaml.safe_dump(doc, allow_unicode=True)}
    products, found = parse_files(texts, LOANS)
    assert found == [] and products["bnpl"].education.min_watch_seconds == 300
