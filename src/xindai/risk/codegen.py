"""Compilers to Python bytecode for the hot path: rule sets, indicator plans and LightGBM trees.

Why: per event the interpretive engine made ~100 small Python calls (one closure per rule node, one
per indicator step, one loop iteration per tree node). Building each rule set, each event type's
indicator plan and each model into ONE straight-line Python function removes that overhead while
computing exactly the same values (``tests/unit/risk/test_compiled.py`` cross-checks the compiled
engine against the interpretive one on a slice of the handbook stream).

Safety: this is not ``eval`` of user text. Rule conditions are still tokenized, parsed and
type-checked by ``xindai.risk.lang``; the compiler turns the *checked tree* into a Python ``ast``
node by node (only names, numbers, comparisons, arithmetic, ``and``/``or``/``not`` and five
whitelisted functions can appear), and every value a user wrote (indicator names, numbers) enters
the tree as an ``ast.Constant`` or an internal variable, never as source text. The indicator plan and
the tree code are generated from validated registries and LightGBM's JSON dump; user-derived strings
are checked against the identifier pattern or passed in the function's namespace. Generated
functions run with empty ``__builtins__``: only the helpers placed in their namespace are reachable.

Invariants:
* a compiled rule set fires the same rules, in the same order, and records the same errors
  (``ArithmeticError``/``TypeError``/``ValueError`` per rule, which then does not fire) as the
  per-rule closures of ``xindai.risk.lang``;
* compiled trees follow LightGBM's missing-value routing exactly as ``model._walk`` does and add the
  trees' leaf values left to right (the order ``sum`` uses), so scores are bit-identical.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from xindai.risk.lang import Node

_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_ERRORS = (ArithmeticError, TypeError, ValueError)

# (indices of fired rules, [(rule index, exception)] or None)
RulesFn = Callable[[Mapping[str, float]], tuple[list[int], list[tuple[int, BaseException]] | None]]

_CMP_AST: dict[str, type[ast.cmpop]] = {
    "<": ast.Lt,
    "<=": ast.LtE,
    ">": ast.Gt,
    ">=": ast.GtE,
    "==": ast.Eq,
    "!=": ast.NotEq,
}
_ARITH_AST: dict[str, type[ast.operator]] = {
    "+": ast.Add,
    "-": ast.Sub,
    "*": ast.Mult,
    "/": ast.Div,
    "%": ast.Mod,
}


def _load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _store(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Store())


class _RuleCompiler:
    """Turns checked ``lang.Node`` trees into ``ast`` expressions over local variables."""

    def __init__(self) -> None:
        self.locals: dict[str, str] = {}  # indicator name -> local variable
        self.namespace: dict[str, Any] = {
            "__builtins__": {},
            "_abs": abs,
            "_min": min,
            "_max": max,
            "_isnan": math.isnan,
        }
        self.temps = 0

    def local(self, name: str) -> str:
        var = self.locals.get(name)
        if var is None:
            var = self.locals[name] = f"_v{len(self.locals)}"
        return var

    def constant(self, value: object) -> ast.Name:
        var = f"_k{len(self.namespace)}"
        self.namespace[var] = value
        return _load(var)

    def expr(self, node: Node) -> ast.expr:
        op, args = node.op, node.args
        if op == "const":
            return ast.Constant(value=args[0])
        if op == "name":
            return _load(self.local(args[0]))
        if op == "neg":
            return ast.UnaryOp(op=ast.USub(), operand=self.expr(args[0]))
        if op == "not":
            return ast.UnaryOp(op=ast.Not(), operand=self.expr(args[0]))
        if op in ("and", "or"):
            parts = _flatten(node, op)
            bool_op: ast.boolop = ast.And() if op == "and" else ast.Or()
            return ast.BoolOp(op=bool_op, values=[self.expr(p) for p in parts])
        if op == "cmp":
            sym, left, right = args
            return ast.Compare(
                left=self.expr(left), ops=[_CMP_AST[sym]()], comparators=[self.expr(right)]
            )
        if op == "between":
            x, lo, hi = args
            # ``lo <= x <= hi``: evaluated left to right, x once — as the closure did.
            return ast.Compare(
                left=self.expr(lo),
                ops=[ast.LtE(), ast.LtE()],
                comparators=[self.expr(x), self.expr(hi)],
            )
        if op == "in":
            x, *items = args
            if all(a.op == "const" for a in items):
                members: ast.expr = self.constant(frozenset(a.args[0] for a in items))
            else:
                members = ast.Set(elts=[self.expr(a) for a in items])
            return ast.Compare(left=self.expr(x), ops=[ast.In()], comparators=[members])
        if op == "arith":
            sym, left, right = args
            return ast.BinOp(left=self.expr(left), op=_ARITH_AST[sym](), right=self.expr(right))
        if op == "call":
            return self.call(args[0], [self.expr(a) for a in args[1:]])
        raise AssertionError(f"unknown node {op}")  # pragma: no cover

    def call(self, name: str, fns: list[ast.expr]) -> ast.expr:
        if name in ("abs", "min", "max"):
            return ast.Call(func=_load("_" + name), args=fns, keywords=[])
        if name == "is_known":
            isnan = ast.Call(func=_load("_isnan"), args=fns, keywords=[])
            return ast.UnaryOp(op=ast.Not(), operand=isnan)
        # coalesce(x, default): x once, the default only when x is NaN (lazy, like the closure).
        x, default = fns
        temp = f"_t{self.temps}"
        self.temps += 1
        test = ast.Call(
            func=_load("_isnan"),
            args=[ast.NamedExpr(target=_store(temp), value=x)],
            keywords=[],
        )
        return ast.IfExp(test=test, body=default, orelse=_load(temp))


def _flatten(node: Node, op: str) -> list[Node]:
    if node.op != op:
        return [node]
    return [*_flatten(node.args[0], op), *_flatten(node.args[1], op)]


def compile_rules(trees: Sequence[Node]) -> RulesFn:
    """One function evaluating every rule condition in order over an indicator mapping.

    Returns ``(fired, errors)``: the indices of the rules whose condition is true, and the
    ``(index, exception)`` pairs of rules that failed at run time (``None`` when none did).
    """
    comp = _RuleCompiler()
    body: list[ast.stmt] = [
        ast.Assign(targets=[_store("fired")], value=ast.List(elts=[], ctx=ast.Load())),
        ast.Assign(targets=[_store("errors")], value=ast.Constant(value=None)),
    ]
    checks: list[ast.stmt] = []
    for i, tree in enumerate(trees):
        fire = ast.Expr(
            value=ast.Call(
                func=ast.Attribute(value=_load("fired"), attr="append", ctx=ast.Load()),
                args=[ast.Constant(value=i)],
                keywords=[],
            )
        )
        record = _record_error(i)
        checks.append(
            ast.Try(
                body=[ast.If(test=comp.expr(tree), body=[fire], orelse=[])],
                handlers=[
                    ast.ExceptHandler(type=comp.constant(RULE_ERRORS), name="exc", body=record)
                ],
                orelse=[],
                finalbody=[],
            )
        )
    # Read every referenced value once, up front (a missing name is a KeyError, as before).
    for name, var in comp.locals.items():
        body.append(
            ast.Assign(
                targets=[_store(var)],
                value=ast.Subscript(
                    value=_load("v"), slice=ast.Constant(value=name), ctx=ast.Load()
                ),
            )
        )
    body.extend(checks)
    body.append(ast.Return(value=ast.Tuple(elts=[_load("fired"), _load("errors")], ctx=ast.Load())))
    fn: RulesFn = _build("_rules", ["v"], body, comp.namespace)
    return fn


def _record_error(index: int) -> list[ast.stmt]:
    """``if errors is None: errors = []`` then ``errors.append((index, exc))``."""
    create = ast.If(
        test=ast.Compare(left=_load("errors"), ops=[ast.Is()], comparators=[ast.Constant(None)]),
        body=[ast.Assign(targets=[_store("errors")], value=ast.List(elts=[], ctx=ast.Load()))],
        orelse=[],
    )
    append = ast.Expr(
        value=ast.Call(
            func=ast.Attribute(value=_load("errors"), attr="append", ctx=ast.Load()),
            args=[ast.Tuple(elts=[ast.Constant(index), _load("exc")], ctx=ast.Load())],
            keywords=[],
        )
    )
    return [create, append]


def _build(name: str, params: list[str], body: list[ast.stmt], namespace: dict[str, Any]) -> Any:
    func = ast.FunctionDef(
        name=name,
        args=ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=p) for p in params],
            kwonlyargs=[],
            kw_defaults=[],
            defaults=[],
        ),
        body=body,
        decorator_list=[],
        returns=None,
    )
    module = ast.Module(body=[func], type_ignores=[])
    ast.fix_missing_locations(module)
    exec(compile(module, f"<xindai-compiled {name}>", "exec"), namespace)
    # Popped so the namespace does not hold the function that holds the namespace: that cycle
    # would keep an engine's whole window state alive until a cyclic collection.
    return namespace.pop(name)


def compile_source(name: str, source: str, namespace: dict[str, Any]) -> Any:
    """Compile generated source text (built only from internal identifiers, numbers and
    identifier-checked names) and return the function ``name`` defined in it."""
    namespace.setdefault("__builtins__", {})
    exec(compile(source, f"<xindai-compiled {name}>", "exec"), namespace)
    return namespace.pop(name)  # no function <-> namespace cycle (see ``_build``)


def identifier(name: str) -> str:
    """``repr`` of a registry name after checking it is a plain identifier (safe in source)."""
    if not _IDENT.match(name):
        raise ValueError(f"{name!r} is not an identifier")
    return repr(name)


# --- LightGBM trees -----------------------------------------------------------------------------


def compile_trees(trees: Sequence[tuple[Any, ...]], n_features: int) -> Callable[[Any], float]:
    """Straight-line Python for ``model._walk`` summed over ``trees`` (nested tuples).

    Per feature two locals are read once: the raw value ``fN`` and ``zN`` (NaN replaced by 0.0,
    LightGBM's treatment when a split's missing type is not ``NaN``).
    """
    used: set[int] = set()
    lines: list[str] = []

    def node(tree: tuple[Any, ...], depth: int) -> None:
        pad = "    " * depth
        if len(tree) == 1:
            lines.append(f"{pad}s += {float(tree[0])!r}")
            return
        feature, threshold, default_left, missing, left, right = tree
        f = int(feature)
        used.add(f)
        thr = repr(float(threshold))
        if missing == "NaN":
            # NaN goes to the default side; otherwise v <= threshold goes left.
            test = f"not (f{f} > {thr})" if default_left else f"f{f} <= {thr}"
        elif missing == "Zero":
            # NaN counts as 0.0, and 0.0 goes to the default side.
            test = (
                f"z{f} == 0.0 or z{f} <= {thr}"
                if default_left
                else f"z{f} != 0.0 and z{f} <= {thr}"
            )
        else:
            test = f"z{f} <= {thr}"
        lines.append(f"{pad}if {test}:")
        node(left, depth + 1)
        lines.append(f"{pad}else:")
        node(right, depth + 1)

    for tree in trees:
        node(tree, 1)
    head = ["def _raw(x):", "    s = 0"]
    for f in sorted(used):
        if not 0 <= f < n_features:
            raise ValueError(f"split feature {f} outside 0..{n_features - 1}")
        head.append(f"    f{f} = x[{f}]")
        head.append(f"    z{f} = 0.0 if f{f} != f{f} else f{f}")
    source = "\n".join([*head, *lines, "    return s", ""])
    fn: Callable[[Any], float] = compile_source("_raw", source, {})
    return fn
