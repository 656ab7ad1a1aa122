"""The rule language: a tokenizer, a Pratt parser and a compiler to Python closures (no ``eval``).

Grammar (lowest to highest precedence)::

    expr     := expr 'or' expr | expr 'and' expr | 'not' expr | test
    test     := sum (('<'|'<='|'>'|'>='|'=='|'!=') sum
                     | ['not'] 'between' sum 'and' sum
                     | ['not'] 'in' '[' sum (',' sum)* ']')?
    sum      := sum ('+'|'-') product | product
    product  := product ('*'|'/'|'%') unary | unary
    unary    := '-' unary | atom
    atom     := NUMBER [s|m|h|d] | 'true' | 'false' | NAME | NAME '(' args ')' | '(' expr ')'

Names are indicator names (plus ``model_score``, ``anomaly_score``, ``risk_level`` supplied by the
engine); an unknown name is a compile error with a suggestion. Numbers may carry a duration unit
(``10m`` = 600 seconds). Functions: ``abs``, ``min``, ``max``, ``coalesce(x, default)`` and
``is_known(x)`` (false when x is NaN). Types are checked at compile time (numbers vs booleans).

Invariants: every error is a ``RuleSyntaxError`` carrying 1-based ``line`` and ``column``; a
division by a literal zero is refused at compile time; a division by zero at run time raises
``ZeroDivisionError``, which the rule evaluator records as a rule error (the rule does not fire).
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from xindai.kernel import ValidationError

Values = Mapping[str, float]
Compiled = Callable[[Values], Any]

KEYWORDS = frozenset({"and", "or", "not", "between", "in", "true", "false"})
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TWO_CHAR = {"<=", ">=", "==", "!="}
_ONE_CHAR = set("+-*/%()[],<>")


class RuleSyntaxError(ValidationError):
    """A rule expression that cannot be parsed or compiled; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int, where: str = "when") -> None:
        self.line = line
        self.column = column
        self.message = message
        super().__init__(where, f"line {line}, column {column}: {message}")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "num", "name", "op", "kw", "end"
    text: str
    value: float
    pos: int


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens; raises ``RuleSyntaxError`` on a stray character."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if ch == "#":  # comment to end of line
            while i < n and source[i] != "\n":
                i += 1
            continue
        start = i
        if ch.isdigit() or (ch == "." and i + 1 < n and source[i + 1].isdigit()):
            while i < n and (source[i].isdigit() or source[i] in "._"):
                i += 1
            if i < n and source[i] in "eE":
                i += 1
                if i < n and source[i] in "+-":
                    i += 1
                while i < n and source[i].isdigit():
                    i += 1
            text = source[start:i]
            try:
                number = float(text.replace("_", ""))
            except ValueError:
                raise _error(source, start, f"malformed number {text!r}") from None
            if i < n and source[i] in _UNITS and not (i + 1 < n and _is_word(source[i + 1])):
                number *= _UNITS[source[i]]
                i += 1
            elif i < n and _is_word(source[i]):
                raise _error(source, i, f"unexpected {source[i]!r} after number")
            tokens.append(Token("num", source[start:i], number, start))
            continue
        if ch.isalpha() or ch == "_":
            while i < n and _is_word(source[i]):
                i += 1
            word = source[start:i]
            tokens.append(Token("kw" if word in KEYWORDS else "name", word, 0.0, start))
            continue
        if source[i : i + 2] in _TWO_CHAR:
            tokens.append(Token("op", source[i : i + 2], 0.0, start))
            i += 2
            continue
        if ch in _ONE_CHAR:
            tokens.append(Token("op", ch, 0.0, start))
            i += 1
            continue
        if ch == "=":
            raise _error(source, i, "use '==' to compare")
        raise _error(source, i, f"unexpected character {ch!r}")
    tokens.append(Token("end", "", 0.0, n))
    return tokens


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _line_col(source: str, pos: int) -> tuple[int, int]:
    line = source.count("\n", 0, pos) + 1
    col = pos - (source.rfind("\n", 0, pos) + 1) + 1
    return line, col


def _error(source: str, pos: int, message: str) -> RuleSyntaxError:
    line, col = _line_col(source, pos)
    return RuleSyntaxError(message, line, col)


# --- AST ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """An expression node. ``op`` is the node kind; ``args`` its children or payload."""

    op: str
    args: tuple[Any, ...]
    pos: int
    type: str  # "num" or "bool"


_COMPARE = {"<", "<=", ">", ">=", "==", "!="}
_BP = {"or": 10, "and": 20, "cmp": 40, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60}
FUNCTIONS = {"abs": (1, 1), "min": (2, 8), "max": (2, 8), "coalesce": (2, 2), "is_known": (1, 1)}


class Parser:
    """Pratt parser over the token list; checks names and types as it builds the tree."""

    def __init__(self, source: str, names: Collection[str]) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0
        self.names = names

    def parse(self) -> Node:
        node = self.expr(0)
        tok = self.peek()
        if tok.kind != "end":
            raise self.err(tok, f"unexpected {tok.text!r}")
        if node.type != "bool":
            raise self.err(self.tokens[0], "a rule condition must be true/false, not a number")
        return node

    # token helpers
    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def err(self, tok: Token, message: str) -> RuleSyntaxError:
        return _error(self.source, tok.pos, message)

    def expect(self, text: str) -> Token:
        tok = self.next()
        if tok.text != text or tok.kind == "end":
            found = "end of rule" if tok.kind == "end" else repr(tok.text)
            raise self.err(tok, f"expected {text!r}, found {found}")
        return tok

    def want(self, node: Node, type_: str, tok: Token) -> Node:
        if node.type != type_:
            what = "a number" if type_ == "num" else "true/false"
            raise _error(self.source, node.pos, f"expected {what} here")
        return node

    # Pratt core
    def expr(self, rbp: int) -> Node:
        left = self.prefix()
        while True:
            tok = self.peek()
            lbp = self.infix_bp(tok)
            if lbp <= rbp:
                return left
            left = self.infix(left, self.next(), lbp)

    def infix_bp(self, tok: Token) -> int:
        if tok.kind == "kw" and tok.text in ("or", "and"):
            return _BP[tok.text]
        if tok.kind == "kw" and tok.text in ("between", "in", "not"):
            return _BP["cmp"]
        if tok.kind == "op" and tok.text in _COMPARE:
            return _BP["cmp"]
        if tok.kind == "op" and tok.text in _BP:
            return _BP[tok.text]
        return 0

    def prefix(self) -> Node:
        tok = self.next()
        if tok.kind == "num":
            return Node("const", (tok.value,), tok.pos, "num")
        if tok.kind == "kw" and tok.text in ("true", "false"):
            return Node("const", (tok.text == "true",), tok.pos, "bool")
        if tok.kind == "kw" and tok.text == "not":
            operand = self.expr(_BP["and"] + 5)  # binds tighter than and/or, looser than tests
            return Node("not", (self.want(operand, "bool", tok),), tok.pos, "bool")
        if tok.kind == "op" and tok.text == "-":
            operand = self.expr(65)
            return Node("neg", (self.want(operand, "num", tok),), tok.pos, "num")
        if tok.kind == "op" and tok.text == "(":
            inner = self.expr(0)
            self.expect(")")
            return inner
        if tok.kind == "name":
            if self.peek().text == "(" and self.peek().kind == "op":
                return self.call(tok)
            if tok.text not in self.names:
                close = difflib.get_close_matches(tok.text, list(self.names), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.err(tok, f"unknown indicator {tok.text!r}{hint}")
            return Node("name", (tok.text,), tok.pos, "num")
        if tok.kind == "end":
            raise self.err(tok, "unexpected end of rule")
        raise self.err(tok, f"unexpected {tok.text!r}")

    def call(self, name: Token) -> Node:
        if name.text not in FUNCTIONS:
            raise self.err(name, f"unknown function {name.text!r}; one of {sorted(FUNCTIONS)}")
        self.expect("(")
        args: list[Node] = []
        if self.peek().text != ")":
            while True:
                args.append(self.want(self.expr(0), "num", name))
                if self.peek().text != ",":
                    break
                self.next()
        self.expect(")")
        low, high = FUNCTIONS[name.text]
        if not low <= len(args) <= high:
            raise self.err(name, f"{name.text}() takes {low}..{high} arguments, got {len(args)}")
        type_ = "bool" if name.text == "is_known" else "num"
        return Node("call", (name.text, *args), name.pos, type_)

    def infix(self, left: Node, tok: Token, lbp: int) -> Node:
        if tok.kind == "kw" and tok.text in ("and", "or"):
            self.want(left, "bool", tok)
            right = self.want(self.expr(lbp), "bool", tok)
            return Node(tok.text, (left, right), tok.pos, "bool")
        negate = False
        if tok.kind == "kw" and tok.text == "not":
            negate = True
            tok = self.next()
            if tok.text not in ("between", "in"):
                raise self.err(tok, "expected 'between' or 'in' after 'not'")
        if left.op in ("cmp", "between", "in"):
            raise self.err(tok, "comparisons do not chain; use 'and' or 'between'")
        if tok.text == "between":
            self.want(left, "num", tok)
            low = self.want(self.expr(_BP["cmp"]), "num", tok)
            self.expect("and")
            high = self.want(self.expr(_BP["cmp"]), "num", tok)
            node = Node("between", (left, low, high), tok.pos, "bool")
        elif tok.text == "in":
            self.want(left, "num", tok)
            self.expect("[")
            items = [self.want(self.expr(_BP["cmp"]), "num", tok)]
            while self.peek().text == ",":
                self.next()
                items.append(self.want(self.expr(_BP["cmp"]), "num", tok))
            self.expect("]")
            node = Node("in", (left, *items), tok.pos, "bool")
        elif tok.text in _COMPARE:
            self.want(left, "num", tok)
            right = self.want(self.expr(lbp), "num", tok)
            return Node("cmp", (tok.text, left, right), tok.pos, "bool")
        else:  # arithmetic
            self.want(left, "num", tok)
            right = self.want(self.expr(lbp), "num", tok)
            if tok.text in ("/", "%") and right.op == "const" and right.args[0] == 0:
                raise _error(self.source, right.pos, "division by zero")
            return Node("arith", (tok.text, left, right), tok.pos, "num")
        return Node("not", (node,), node.pos, "bool") if negate else node


# --- compiler -----------------------------------------------------------------------------------

_CMP_FN: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITH_FN: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}


def _cmp_name_const(op: str, name: str, c: float) -> Compiled:
    # Specialised closures for the common "indicator OP constant" shape: no generic dispatch.
    if op == ">":
        return lambda v: v[name] > c
    if op == ">=":
        return lambda v: v[name] >= c
    if op == "<":
        return lambda v: v[name] < c
    if op == "<=":
        return lambda v: v[name] <= c
    if op == "==":
        return lambda v: v[name] == c
    return lambda v: v[name] != c


def compile_node(node: Node) -> Compiled:
    """Turn a checked tree into a closure over the values mapping."""
    op, args = node.op, node.args
    if op == "const":
        value = args[0]
        return lambda v: value
    if op == "name":
        name = args[0]
        return lambda v: v[name]
    if op == "neg":
        inner = compile_node(args[0])
        return lambda v: -inner(v)
    if op == "not":
        inner = compile_node(args[0])
        return lambda v: not inner(v)
    if op in ("and", "or"):
        parts = _flatten(node, op)
        fns = tuple(compile_node(p) for p in parts)
        if op == "and":
            if len(fns) == 2:
                a, b = fns
                return lambda v: a(v) and b(v)
            return lambda v: all(f(v) for f in fns)
        if len(fns) == 2:
            a, b = fns
            return lambda v: a(v) or b(v)
        return lambda v: any(f(v) for f in fns)
    if op == "cmp":
        sym, left, right = args
        if left.op == "name" and right.op == "const":
            return _cmp_name_const(sym, left.args[0], right.args[0])
        fn, lf, rf = _CMP_FN[sym], compile_node(left), compile_node(right)
        return lambda v: fn(lf(v), rf(v))
    if op == "between":
        x, lo, hi = (compile_node(a) for a in args)
        if args[1].op == "const" and args[2].op == "const" and args[0].op == "name":
            name, low, high = args[0].args[0], args[1].args[0], args[2].args[0]
            return lambda v: low <= v[name] <= high
        return lambda v: lo(v) <= x(v) <= hi(v)
    if op == "in":
        x = compile_node(args[0])
        if all(a.op == "const" for a in args[1:]):
            members = frozenset(a.args[0] for a in args[1:])
            return lambda v: x(v) in members
        items = tuple(compile_node(a) for a in args[1:])
        return lambda v: x(v) in {f(v) for f in items}
    if op == "arith":
        sym, left, right = args
        fn, lf, rf = _ARITH_FN[sym], compile_node(left), compile_node(right)
        return lambda v: fn(lf(v), rf(v))
    if op == "call":
        return _compile_call(args[0], tuple(compile_node(a) for a in args[1:]))
    raise AssertionError(f"unknown node {op}")  # pragma: no cover


def _compile_call(name: str, fns: tuple[Compiled, ...]) -> Compiled:
    if name == "abs":
        (f,) = fns
        return lambda v: abs(f(v))
    if name == "min":
        return lambda v: min(f(v) for f in fns)
    if name == "max":
        return lambda v: max(f(v) for f in fns)
    if name == "is_known":
        (f,) = fns
        return lambda v: not math.isnan(f(v))
    x, default = fns  # coalesce

    def coalesce(v: Values) -> Any:
        value = x(v)
        return default(v) if math.isnan(value) else value

    return coalesce


def _flatten(node: Node, op: str) -> list[Node]:
    if node.op != op:
        return [node]
    return [*_flatten(node.args[0], op), *_flatten(node.args[1], op)]


def referenced_names(node: Node) -> frozenset[str]:
    """Every indicator name the expression reads."""
    if node.op == "name":
        return frozenset({node.args[0]})
    out: set[str] = set()
    for arg in node.args:
        if isinstance(arg, Node):
            out |= referenced_names(arg)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled rule condition: source, referenced names, the closure and the checked tree
    (``xindai.risk.codegen`` compiles the trees of a whole rule set into one function)."""

    source: str
    names: frozenset[str]
    fn: Compiled
    tree: Node | None = None

    def __call__(self, values: Values) -> Any:
        return self.fn(values)


def compile_expression(source: str, names: Collection[str]) -> Expression:
    """Parse, check and compile ``source`` against the known ``names``."""
    if not isinstance(source, str) or not source.strip():
        raise RuleSyntaxError("the condition is empty", 1, 1)
    tree = Parser(source, frozenset(names)).parse()
    return Expression(source, referenced_names(tree), compile_node(tree), tree)
