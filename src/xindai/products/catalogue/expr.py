"""The catalogue's expression language: limit formulas, adjustments, warnings, perks, eligibility.

Product files hold *documented expressions, not code*. An expression is parsed with Python's own
parser (``ast.parse(mode="eval")``) and then accepted only if every node is on a short whitelist;
it is evaluated by walking that tree here — never by ``eval``/``exec``/``compile`` of user text.

Language (all of it):

* numbers (``500``, ``0.3`` — read exactly from the source text as decimals, never as floats),
  ``true``/``false`` (also ``True``/``False``) and signal names;
* ``+ - * /`` and unary ``-``; comparisons ``< <= > >= == !=`` (chains allowed);
  ``and``, ``or``, ``not``; the conditional ``a if condition else b``;
* functions ``min(a, b, …)``, ``max(a, b, …)``, ``clamp(x, low, high)``, ``floor(x)``, ``ceil(x)``,
  ``round(x)`` / ``round(x, places)`` (half-up), ``abs(x)``.

Invariants: arithmetic is exact (``fractions.Fraction``), so a formula never rounds by accident —
rounding happens once, explicitly, where the caller converts a result to fen. Types are checked
when the file loads (a number where a condition is needed is rejected) and again at evaluation.
Division by zero is an evaluation error naming the expression. Expressions are at most 1,000
characters (no exponentiation, attribute access, subscripts, lambdas or comprehensions exist).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Literal

from xindai.kernel.errors import ValidationError

Kind = Literal["number", "bool"]
Value = Fraction | bool

MAX_SOURCE = 1000

#: function name → (minimum, maximum number of arguments); ``None`` = unbounded
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (2, None),
    "max": (2, None),
    "clamp": (3, 3),
    "floor": (1, 1),
    "ceil": (1, 1),
    "round": (1, 2),
    "abs": (1, 1),
}
_CONSTANTS: dict[str, bool] = {"true": True, "false": False, "True": True, "False": False}
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_CMPOPS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


class ExprError(ValueError):
    """An expression that is not in the language or does not type-check (message says why)."""


@dataclass(frozen=True, slots=True, eq=False)
class Expr:
    """A parsed, whitelisted expression: its source text, the names it reads and its result kind.

    Compared and hashed by identity (the parsed tree is not a value); ``source`` is the text.
    """

    source: str
    names: frozenset[str]
    kind: Kind
    _tree: ast.expr
    _literals: Mapping[int, Fraction]

    def evaluate(self, env: Mapping[str, Value]) -> Value:
        """Evaluate with ``env`` (signal name → ``Fraction`` or ``bool``); exact arithmetic."""
        return _Evaluator(self, env).run(self._tree)

    def number(self, env: Mapping[str, Value]) -> Fraction:
        value = self.evaluate(env)
        assert not isinstance(value, bool)
        return value

    def test(self, env: Mapping[str, Value]) -> bool:
        value = self.evaluate(env)
        assert isinstance(value, bool)
        return value

    def __str__(self) -> str:
        return self.source


def _literal(node: ast.Constant, source: str) -> Fraction:
    # the float ast.parse made is thrown away: the digits are read again, exactly, from the text
    text = ast.get_source_segment(source, node) or ""
    try:
        dec = Decimal(text.replace("_", ""))
    except InvalidOperation:
        raise ExprError(f"{text!r} is not a decimal number") from None
    if not dec.is_finite():
        raise ExprError(f"{text!r} is not a finite number")
    return Fraction(dec)


def compile_expr(source: object, kinds: Mapping[str, Kind], *, want: Kind) -> Expr:
    """Parse ``source`` and check it against the whitelist and the kinds of the names it may read.

    ``kinds`` maps every name the expression may use to ``"number"`` or ``"bool"``; any other name
    is an error ("unknown signal"). ``want`` is the kind the result must have.
    """
    if not isinstance(source, str) or not source.strip():
        raise ExprError("must be a non-empty expression string")
    if len(source) > MAX_SOURCE:
        raise ExprError(f"longer than {MAX_SOURCE} characters")
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ExprError(f"syntax error at column {err.offset}: {err.msg}") from None
    checker = _Checker(text, kinds)
    kind = checker.kind(tree.body)
    if kind != want:
        raise ExprError(f"yields a {kind} but a {want} is needed")
    return Expr(text, frozenset(checker.names), kind, tree.body, checker.literals)


class _Checker:
    """Walks the tree once: rejects anything off the whitelist and infers each node's kind."""

    def __init__(self, source: str, kinds: Mapping[str, Kind]) -> None:
        self.source = source
        self.kinds = kinds
        self.names: set[str] = set()
        self.literals: dict[int, Fraction] = {}

    def _need(self, node: ast.expr, want: Kind, what: str) -> None:
        got = self.kind(node)
        if got != want:
            seg = ast.get_source_segment(self.source, node)
            raise ExprError(f"{what} needs a {want}, but {seg!r} is a {got}")

    def kind(self, node: ast.expr) -> Kind:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return "bool"
            if isinstance(node.value, int | float) and not isinstance(node.value, complex):
                self.literals[id(node)] = _literal(node, self.source)
                return "number"
            raise ExprError(f"literal {node.value!r} is not allowed (numbers and true/false only)")
        if isinstance(node, ast.Name):
            if node.id in _CONSTANTS:
                return "bool"
            if node.id in FUNCTIONS:
                raise ExprError(f"{node.id} is a function; call it as {node.id}(…)")
            if node.id not in self.kinds:
                raise ExprError(f"unknown signal {node.id!r}")
            self.names.add(node.id)
            return self.kinds[node.id]
        if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
            self._need(node.left, "number", "arithmetic")
            self._need(node.right, "number", "arithmetic")
            return "number"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            self._need(node.operand, "number", "a sign")
            return "number"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self._need(node.operand, "bool", "not")
            return "bool"
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self._need(value, "bool", "and/or")
            return "bool"
        if isinstance(node, ast.Compare):
            if not all(isinstance(op, _CMPOPS) for op in node.ops):
                raise ExprError("only < <= > >= == != comparisons are allowed")
            for operand in (node.left, *node.comparators):
                self._need(operand, "number", "a comparison")
            return "bool"
        if isinstance(node, ast.IfExp):
            self._need(node.test, "bool", "the condition of 'if'")
            body, other = self.kind(node.body), self.kind(node.orelse)
            if body != other:
                raise ExprError("both branches of 'a if c else b' must have the same kind")
            return body
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ExprError(f"{type(node).__name__} is not allowed in a product expression")

    def _call(self, node: ast.Call) -> Kind:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            name = ast.get_source_segment(self.source, node.func)
            raise ExprError(f"unknown function {name!r}; known: {', '.join(FUNCTIONS)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExprError(f"{node.func.id}() takes plain positional arguments only")
        low, high = FUNCTIONS[node.func.id]
        if len(node.args) < low or (high is not None and len(node.args) > high):
            expected = f"{low}" if low == high else f"{low}–{high or 'any'}"
            raise ExprError(f"{node.func.id}() takes {expected} arguments, got {len(node.args)}")
        for arg in node.args:
            self._need(arg, "number", f"{node.func.id}()")
        if node.func.id == "round" and len(node.args) == 2:
            places = node.args[1]
            if not (
                isinstance(places, ast.Constant)
                and isinstance(places.value, int)
                and not isinstance(places.value, bool)
                and 0 <= places.value <= 6
            ):
                raise ExprError("round(x, places) needs places as a whole number 0–6")
        return "number"


def _round_half_up(value: Fraction, places: int) -> Fraction:
    scale = 10**places
    scaled = value * scale
    return Fraction(math.floor(abs(scaled) + Fraction(1, 2)) * (1 if scaled >= 0 else -1), scale)


def _clamp(x: Fraction, low: Fraction, high: Fraction) -> Fraction:
    if low > high:
        raise ValidationError("expression", f"clamp(): low {low} is above high {high}")
    return min(max(x, low), high)


_IMPL: dict[str, Callable[..., Fraction]] = {
    "min": lambda *a: min(a),
    "max": lambda *a: max(a),
    "clamp": _clamp,
    "floor": lambda x: Fraction(math.floor(x)),
    "ceil": lambda x: Fraction(math.ceil(x)),
    "round": lambda x, places=Fraction(0): _round_half_up(x, int(places)),
    "abs": lambda x: abs(x),
}


class _Evaluator:
    def __init__(self, expr: Expr, env: Mapping[str, Value]) -> None:
        self.expr = expr
        self.env = env

    def num(self, node: ast.expr) -> Fraction:
        value = self.run(node)
        if isinstance(value, bool):
            raise ValidationError(self._where(node), "a number is needed, got a true/false value")
        return value

    def flag(self, node: ast.expr) -> bool:
        value = self.run(node)
        if not isinstance(value, bool):
            raise ValidationError(self._where(node), "a true/false value is needed, got a number")
        return value

    def _where(self, node: ast.expr) -> str:
        return (
            f"expression {self.expr.source!r} at {ast.get_source_segment(self.expr.source, node)!r}"
        )

    def run(self, node: ast.expr) -> Value:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return node.value
            return self.expr._literals[id(node)]
        if isinstance(node, ast.Name):
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            try:
                return self.env[node.id]
            except KeyError:
                raise ValidationError(node.id, "signal value is missing") from None
        if isinstance(node, ast.BinOp):
            left, right = self.num(node.left), self.num(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            if right == 0:
                raise ValidationError(self._where(node), "division by zero")
            return left / right
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return not self.flag(node.operand)
            value = self.num(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(self.flag(v) for v in node.values)
            return any(self.flag(v) for v in node.values)
        if isinstance(node, ast.Compare):
            left = self.num(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.num(comparator)
                if not _compare(op, left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.run(node.body) if self.flag(node.test) else self.run(node.orelse)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [self.num(a) for a in node.args]
            return _IMPL[node.func.id](*args)
        raise ValidationError(self._where(node), "not an expression node")  # unreachable: checked


def _compare(op: ast.cmpop, left: Fraction, right: Fraction) -> bool:
    if isinstance(op, ast.Lt):
        return left < right
    if isinstance(op, ast.LtE):
        return left <= right
    if isinstance(op, ast.Gt):
        return left > right
    if isinstance(op, ast.GtE):
        return left >= right
    if isinstance(op, ast.Eq):
        return left == right
    return left != right
