"""Plans for the compiled window kernel (``xindai.risk._kernel``).

Whether the kernel is used at all is decided once, in ``xindai.risk.accel``; without it the
pure-Python rings of ``xindai.risk.windows`` and the engine's generated Python plans run instead,
with the same values (``tests/unit/risk/test_native.py``).

``build_plan`` turns one event type's plan (the engine's groups of steps) into a kernel ``Plan``:
every registry kind becomes a native operation, except stateless indicators of the event kind with
a ``where`` filter, which run their Python ``update`` through ``PyOp`` (as would any future kind
the kernel lacks). The kernel writes the same names, in the same order, as the Python plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from xindai.risk.accel import kernel
from xindai.risk.indicators import (
    NAN,
    FusedDelayed,
    FusedRing,
    Indicator,
    IndicatorSpec,
    categorical_attr,
    numeric_attr,
    scale_of,
)

# A plan step of the engine: (slot, name, update or read, counts?, value of an empty state), and a
# fused one: (slot, update or read, counts?, (name, empty value) pairs).
Step = tuple[int, str, Callable[..., Any], bool, Any]
FusedStep = tuple[int, Callable[..., Any], bool, tuple[tuple[str, float], ...]]

_EVENT_KINDS = {"local_hour": 0, "is_night": 1, "is_weekend": 2, "value": 3}
_POST = {"count": 0, "sum": 1, "mean": 2}


def _where(spec: IndicatorSpec) -> dict[str, Any]:
    return {"where_attr": spec.where_attr, "where_value": spec.where_value}


def _indicator_op(op: Indicator, idx: int, counts: bool, empty: float, group_kind: str) -> Any:
    """A native operation for a plain indicator, or ``None`` when the kernel lacks its kind."""
    k = kernel
    assert k is not None
    spec = op.spec
    empties = {op.name: empty}
    width = spec.window_s / spec.buckets if spec.window_s else 0.0
    if group_kind == "event":
        if spec.kind in _EVENT_KINDS and spec.where_attr is None:
            return k.EventOp(idx, True, {}, field_attr=numeric_attr(spec)).configure(
                op.name, _EVENT_KINDS[spec.kind], scale_of(spec)
            )
        return None
    if spec.kind == "max":
        return k.MaxOp(
            idx, counts, empties, field_attr=numeric_attr(spec), **_where(spec)
        ).configure(op.name, width, spec.buckets, scale_of(spec))
    if spec.kind == "night_share":
        return k.NightShareOp(idx, counts, empties, **_where(spec)).configure(
            op.name, width, spec.buckets
        )
    if spec.kind == "since_last":
        return k.SinceLastOp(idx, counts, empties, **_where(spec)).configure(op.name)
    if spec.kind == "distinct":
        return k.DistinctOp(idx, counts, empties, **_where(spec)).configure(
            op.name, categorical_attr(spec), width, spec.buckets
        )
    if spec.kind == "changes":
        return k.ChangeOp(idx, counts, empties, **_where(spec)).configure(
            op.name, categorical_attr(spec), width, spec.buckets
        )
    if spec.kind in ("gps_speed", "gps_jump"):
        return k.GpsOp(idx, counts, empties, **_where(spec)).configure(
            op.name, spec.kind == "gps_speed"
        )
    if spec.kind == "region_mismatch":
        return k.RegionOp(idx, counts, empties, **_where(spec)).configure(op.name)
    if spec.kind in ("delayed_rate", "delayed_count"):
        delay = round(spec.delay_s / width)
        outs = ((op.name, spec.kind == "delayed_rate"),)
        return k.DelayedOp(idx, counts, empties, **_where(spec)).configure(
            width, spec.buckets, delay, outs
        )
    return None


def _fused_op(
    op: FusedRing | FusedDelayed, idx: int, counts: bool, empties: dict[str, float]
) -> Any:
    k = kernel
    assert k is not None
    first = op.specs[0]
    width = first.window_s / first.buckets
    if isinstance(op, FusedDelayed):
        delay = round(first.delay_s / width)
        outs = tuple((s.name, s.kind == "delayed_rate") for s in op.specs)
        return k.DelayedOp(idx, counts, empties, **_where(first)).configure(
            width, first.buckets, delay, outs
        )
    numeric = [s for s in op.specs if s.kind != "count"]
    pre = tuple((s.name, s.kind == "zscore") for s in op.specs if s.kind not in _POST)
    post = tuple((s.name, _POST[s.kind]) for s in op.specs if s.kind in _POST)
    field_attr = numeric_attr(numeric[0]) if numeric else None
    scale = scale_of(numeric[0]) if numeric else 1.0
    return k.FusedOp(idx, counts, empties, field_attr=field_attr, **_where(first)).configure(
        width, first.buckets, scale, pre, post, bool(numeric)
    )


def build_plan(
    groups: Sequence[
        tuple[
            str,
            str | None,
            dict[str, list[Any]],
            Sequence[Step],
            Sequence[FusedStep],
            Sequence[str],
        ]
    ],
    kind_ops: Callable[[str], Sequence[Indicator | FusedRing | FusedDelayed]],
) -> Callable[[Any, dict[str, float], Any], None]:
    """A kernel ``Plan`` for one event type: ``plan(event, values, dirty)``."""
    k = kernel
    assert k is not None
    native_groups = []
    for kind, attr, table, steps, fused, names in groups:
        ops_of_kind = kind_ops(kind)
        ops: list[Any] = []
        for idx, name, fn, counts, empty in steps:
            op = ops_of_kind[idx]
            assert isinstance(op, Indicator)
            native = _indicator_op(op, idx, counts, empty, kind)
            if native is None:
                native = k.PyOp(idx, counts, {name: empty}).configure(name, op.new_state, fn, False)
            ops.append(native)
        for idx, ffn, counts, empties in fused:
            fop = ops_of_kind[idx]
            assert isinstance(fop, (FusedRing, FusedDelayed))
            if kind == "event":
                ops.append(
                    k.PyOp(idx, counts, dict(empties)).configure("", fop.new_state, ffn, True)
                )
            else:
                ops.append(_fused_op(fop, idx, counts, dict(empties)))
        nans = dict.fromkeys(names, NAN)
        native_groups.append(k.Group(kind, attr, table, len(ops_of_kind), nans, ops))
    plan: Callable[[Any, dict[str, float], Any], None] = k.Plan(native_groups)
    return plan
