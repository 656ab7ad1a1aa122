"""The catalogue's expression language: whitelisted, exact, typed; never eval."""

from __future__ import annotations

from fractions import Fraction

import pytest

from xindai.kernel.errors import ValidationError
from xindai.products.catalogue.expr import ExprError, compile_expr

KINDS = {"x": "number", "y": "number", "peak": "bool"}


def num(source: str, **env: object) -> Fraction:
    return compile_expr(source, KINDS, want="number").number(
        {k: (v if isinstance(v, bool) else Fraction(str(v))) for k, v in env.items()}
    )


def test_decimal_literals_are_exact() -> None:
    assert num("0.1 + 0.2") == Fraction(3, 10)
    assert num("x * 1.3", x=100) == 130
    assert num("500 * floor(x)", x="2.999") == 1000


def test_functions_and_conditionals() -> None:
    assert num("min(x, y, 3)", x=5, y=4) == 3
    assert num("max(x, y)", x=5, y=4) == 5
    assert num("clamp(x, 0, 10)", x=-4) == 0
    assert num("round(x)", x="2.5") == 3 and num("round(x)", x="-2.5") == -3
    assert num("round(x, 2)", x="1.005") == Fraction(101, 100)
    assert num("ceil(x) + abs(y)", x="1.1", y=-2) == 4
    assert num("x if peak else y", x=1, y=2, peak=True) == 1
    assert num("x if x > 1 and not peak else y", x=3, y=2, peak=False) == 3
    assert num("1 if 0 < x <= 10 else 0", x=10) == 1


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("__import__('os').system('true')", "unknown function"),
        ("x.real", "Attribute is not allowed"),
        ("x ** 2", "BinOp"),
        ("x // 2", "BinOp"),
        ("[x][0]", "not allowed"),
        ("(lambda: 1)()", "unknown function"),
        ("'100'", "literal '100' is not allowed"),
        ("z + 1", "unknown signal 'z'"),
        ("min(x)", "min() takes 2–any arguments"),
        ("min(x, y=1)", "positional"),
        ("x + peak", "arithmetic needs a number"),
        ("x if x else y", "condition of 'if' needs a bool"),
        ("x if peak else peak", "same kind"),
        ("round(x, y)", "places"),
        ("x +", "syntax error"),
        ("", "non-empty"),
        ("x" + " + x" * 400, "longer than"),
        ("peak", "yields a bool but a number is needed"),
        ("min", "is a function"),
    ],
)
def test_outside_the_language_is_refused(source: str, reason: str) -> None:
    with pytest.raises(ExprError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        compile_expr(source, KINDS, want="number")


def test_names_are_collected() -> None:
    assert compile_expr("min(x, 3) if peak else y", KINDS, want="number").names == {
        "x",
        "y",
        "peak",
    }


def test_evaluation_errors_name_the_problem() -> None:
    e = compile_expr("x / y", KINDS, want="number")
    with pytest.raises(ValidationError, match="division by zero"):
        e.number({"x": Fraction(1), "y": Fraction(0)})
    with pytest.raises(ValidationError) as err:
        e.number({"x": Fraction(1)})
    assert err.value.field == "y"
    with pytest.raises(ValidationError, match="low 2 is above high 1"):
        compile_expr("clamp(x, 2, 1)", KINDS, want="number").number({"x": Fraction(0)})
