"""A tiny evaluator for LightGBM text models: exact raw scores and path attributions, fast per row.

LightGBM's own ``predict`` costs about a millisecond of fixed overhead per call and its SHAP mode
several more, too slow for a one-application decision path. This module parses the text model once
into flat lists and walks the trees in C (the compiled kernel, below) or, as the reference and the
fallback, in plain Python (single row) or NumPy (batches).

Reasons use *path attribution* (Saabas): along the path a row takes through a tree, every split moves
the node value from parent to child, and that move is credited to the split's feature. The root
values plus all credits equal the raw score exactly, so reasons always add up to the score.

Decision rules follow LightGBM's ``Tree::NumericalDecision``/``CategoricalDecision``: a NaN with
missing-type *NaN* (or a zero with missing-type *Zero*) goes the default direction; otherwise NaN is
read as 0; a categorical value goes left when its integer is in the split's bitset, right when it is
negative, NaN (whatever the split's missing type: LightGBM ≥ 3.3, microsoft/LightGBM#4468), ±inf or
absent from the bitset; codes are truncated towards zero first, like LightGBM's ``static_cast<int>``
(-0.5 is category 0).

Two implementations, one result: ``explain``/``explain_row`` run the compiled kernel
``xindai.scoring._trees`` when it is built and not disabled (``XINDAI_NATIVE=0``, see
``xindai.scoring.accel``), else ``py_explain``/``py_explain_row``, which stay the specification.
All four are bit-identical per row: the raw score starts at 0.0 and adds each tree's leaf value in
model order (constant trees included), which is also LightGBM's own order, so it equals
``predict(raw_score=True)`` bit for bit; each attribution starts at 0.0 and adds the path's moves
in the same order (tests/unit/scoring/test_trees_native.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from xindai.kernel import ValidationError
from xindai.scoring import accel
from xindai.scoring.frame import FloatArray
from xindai.scoring.gbm import PARALLEL_MIN_ROWS, PREDICT_CHUNK, available_cores

_K_ZERO = 1e-35


@dataclass(frozen=True, slots=True)
class Tree:
    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    categorical: tuple[bool, ...]
    default_left: tuple[bool, ...]
    missing: tuple[int, ...]  # 0 none, 1 zero, 2 nan
    left: tuple[int, ...]
    right: tuple[int, ...]
    node_value: tuple[float, ...]
    leaf_value: tuple[float, ...]
    cat_sets: tuple[frozenset[int], ...]  # per node (empty for numeric splits)


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split()] if text else []


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split()] if text else []


def _bitset(words: list[int]) -> frozenset[int]:
    return frozenset(32 * i + b for i, w in enumerate(words) for b in range(32) if (w >> b) & 1)


def parse_model(text: str) -> list[Tree]:
    """Parse every ``Tree=`` block of a LightGBM text model (binary objective, one class)."""
    trees: list[Tree] = []
    blocks = text.split("\nTree=")[1:]
    if not blocks:
        raise ValidationError("model", "no trees in the LightGBM model text")
    for block in blocks:
        body = block.split("\nend of trees")[0]
        kv: dict[str, str] = {}
        for line in body.splitlines()[1:]:
            if "=" in line:
                key, _, value = line.partition("=")
                kv[key] = value
        leaf = _floats(kv["leaf_value"])
        n_leaves = int(kv["num_leaves"])
        if n_leaves == 1:
            trees.append(Tree((), (), (), (), (), (), (), (leaf[0],), tuple(leaf), ()))
            continue
        dtype = _ints(kv["decision_type"])
        thresholds = _floats(kv["threshold"])
        is_cat = [bool(d & 1) for d in dtype]
        bounds = _ints(kv.get("cat_boundaries", ""))
        words = _ints(kv.get("cat_threshold", ""))
        cat_sets = []
        for node, cat in enumerate(is_cat):
            if cat:
                i = int(thresholds[node])
                cat_sets.append(_bitset(words[bounds[i] : bounds[i + 1]]))
            else:
                cat_sets.append(frozenset())
        trees.append(
            Tree(
                feature=tuple(_ints(kv["split_feature"])),
                threshold=tuple(thresholds),
                categorical=tuple(is_cat),
                default_left=tuple(bool(d & 2) for d in dtype),
                missing=tuple((d >> 2) & 3 for d in dtype),
                left=tuple(_ints(kv["left_child"])),
                right=tuple(_ints(kv["right_child"])),
                node_value=tuple(_floats(kv["internal_value"])),
                leaf_value=tuple(leaf),
                cat_sets=tuple(cat_sets),
            )
        )
    return trees


def _go_left(t: Tree, node: int, v: float) -> bool:
    if t.categorical[node]:
        # NaN compares false: right; int(v) truncates towards zero (-0.5 is category 0); ±inf is
        # no category
        return -1.0 < v < math.inf and int(v) in t.cat_sets[node]
    miss = t.missing[node]
    if math.isnan(v) and miss != 2:
        v = 0.0
    if (miss == 1 and -_K_ZERO <= v <= _K_ZERO) or (miss == 2 and math.isnan(v)):
        return t.default_left[node]
    return v <= t.threshold[node]


class Ensemble:
    """Parsed trees with exact raw scores and path attributions."""

    def __init__(self, text: str, n_features: int) -> None:
        self.trees = parse_model(text)
        self.n_features = n_features
        self.bias = sum(t.node_value[0] for t in self.trees)
        self._luts: dict[int, npt.NDArray[np.bool_]] = {}
        # flat per-node tuples for the single-row walk: (feature, threshold, kind, default_left,
        # left, right, left value, right value, category set). kind: 0/1/2 numeric with missing
        # type none/zero/NaN; 3/4 categorical (missing type NaN or not: the same rule). Per tree: root
        # value and nodes; a constant tree has no nodes (its root value is its leaf value) and
        # stays in its place, so the raw score is summed in LightGBM's order
        Node = tuple[int, float, int, bool, int, int, float, float, frozenset[int]]
        self._flat: list[tuple[float, list[Node]]] = []
        for t in self.trees:
            if not t.feature:
                self._flat.append((t.leaf_value[0], []))
                continue
            nodes: list[Node] = []
            for i in range(len(t.feature)):
                kind = (3 if t.missing[i] == 2 else 4) if t.categorical[i] else t.missing[i]
                lc, rc = t.left[i], t.right[i]
                lv = t.leaf_value[~lc] if lc < 0 else t.node_value[lc]
                rv = t.leaf_value[~rc] if rc < 0 else t.node_value[rc]
                nodes.append(
                    (t.feature[i], t.threshold[i], kind, t.default_left[i], lc, rc, lv, rv,
                     t.cat_sets[i])
                )  # fmt: skip
            self._flat.append((t.node_value[0], nodes))
        # the compiled walker over the same nodes (None: not built or XINDAI_NATIVE=0)
        self._native: Any = (
            None if accel.trees is None else accel.trees.Forest(self._flat, n_features)
        )

    @property
    def native(self) -> bool:
        """Whether ``explain``/``explain_row`` run the compiled kernel."""
        return self._native is not None

    def explain_row(self, row: list[float]) -> tuple[float, list[float]]:
        """Raw score (log-odds) and per-feature attributions of one row (a list of floats)."""
        if self._native is not None:
            raw, contrib = self._native.explain_row(row)
            return float(raw), list(contrib)
        return self.py_explain_row(row)

    def py_explain_row(self, row: list[float]) -> tuple[float, list[float]]:
        """The reference ``explain_row`` in plain Python (the specification of the kernel)."""
        contrib = [0.0] * self.n_features
        raw = 0.0
        for root, nodes in self._flat:
            if not nodes:
                raw += root
                continue
            node = 0
            value = root
            while True:
                f, thr, kind, dleft, lc, rc, lv, rv, cats = nodes[node]
                v = row[f]
                if kind >= 3:
                    left = -1.0 < v < math.inf and int(v) in cats  # as in _go_left (NaN: right)
                elif v != v:
                    left = dleft if kind == 2 else (dleft if kind == 1 else thr >= 0.0)
                elif kind == 1 and -_K_ZERO <= v <= _K_ZERO:
                    left = dleft
                else:
                    left = v <= thr
                if left:
                    contrib[f] += lv - value
                    value = lv
                    node = lc
                else:
                    contrib[f] += rv - value
                    value = rv
                    node = rc
                if node < 0:
                    break
            raw += value
        return raw, contrib

    def _category_table(self, t: Tree) -> npt.NDArray[np.bool_]:
        """Per node, a membership table over category codes; the last column is 'not a member'."""
        key = id(t)
        if key not in self._luts:
            width = 2 + max((max(c) for c in t.cat_sets if c), default=0)
            lut = np.zeros((len(t.feature), width), dtype=bool)
            for node, cats in enumerate(t.cat_sets):
                if cats:
                    lut[node, list(cats)] = True
            self._luts[key] = lut
        return self._luts[key]

    def explain(self, x: FloatArray, threads: int | None = None) -> tuple[FloatArray, FloatArray]:
        """Vectorised ``explain_row`` over a matrix: raw scores ``(n,)``, attributions ``(n, k)``.

        With the kernel, a batch of ``PARALLEL_MIN_ROWS``+ rows is cut into ``PREDICT_CHUNK``-row
        chunks walked by ``threads`` threads (default: the cores this process may use; the kernel
        releases the GIL) — the same chunking as ``gbm.raw_logit``; each row is walked on its own,
        so the values do not depend on it."""
        if self._native is None:
            return self.py_explain(x)
        x = self._matrix(x)
        raw = np.empty(x.shape[0])
        contrib = np.zeros((x.shape[0], self.n_features))
        self._chunked(
            x.shape[0],
            threads,
            lambda a, b: self._native.explain_into(x[a:b], raw[a:b], contrib[a:b]),
        )
        return raw, contrib

    def raw(self, x: FloatArray, threads: int | None = None) -> FloatArray | None:
        """Raw scores only, from the kernel — equal to LightGBM's ``predict(raw_score=True)``
        bit for bit — or ``None`` without the kernel (the caller then asks LightGBM)."""
        if self._native is None:
            return None
        x = self._matrix(x)
        raw = np.empty(x.shape[0])
        self._chunked(x.shape[0], threads, lambda a, b: self._native.predict_into(x[a:b], raw[a:b]))
        return raw

    @staticmethod
    def _matrix(x: FloatArray) -> FloatArray:
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"expected a matrix, got shape {x.shape}")
        return x

    @staticmethod
    def _chunked(n: int, threads: int | None, walk: Callable[[int, int], None]) -> None:
        """``walk(start, stop)`` over all rows: in one call, or in ``PREDICT_CHUNK``-row chunks on
        ``threads`` threads for a batch of ``PARALLEL_MIN_ROWS``+ rows."""
        threads = available_cores() if threads is None else threads
        if threads <= 1 or n < PARALLEL_MIN_ROWS:
            walk(0, n)
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(lambda a: walk(a, min(a + PREDICT_CHUNK, n)), range(0, n, PREDICT_CHUNK)))

    def py_explain(self, x: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The reference ``explain`` in NumPy, level by level (the fallback without the kernel)."""
        n = x.shape[0]
        raw = np.zeros(n)
        contrib = np.zeros((n, self.n_features))
        rows = np.arange(n)
        for t in self.trees:
            if not t.feature:
                raw += t.leaf_value[0]
                continue
            feat = np.asarray(t.feature)
            thr = np.asarray(t.threshold)
            left = np.asarray(t.left)
            right = np.asarray(t.right)
            nval = np.asarray(t.node_value)
            lval = np.asarray(t.leaf_value)
            node = np.zeros(n, dtype=np.int64)
            value = np.full(n, nval[0])
            active = np.ones(n, dtype=bool)
            while active.any():
                idx = rows[active]
                nd = node[idx]
                f = feat[nd]
                v = x[idx, f]
                go_left = np.empty(idx.shape[0], dtype=bool)
                cat = np.asarray(t.categorical)[nd]
                miss = np.asarray(t.missing)[nd]
                dleft = np.asarray(t.default_left)[nd]
                isnan = np.isnan(v)
                # numeric splits
                vv = np.where(isnan & (miss != 2), 0.0, v)
                is_default = ((miss == 1) & (np.abs(vv) <= _K_ZERO)) | ((miss == 2) & isnan)
                with np.errstate(invalid="ignore"):
                    num_left = np.where(is_default, dleft, vv <= thr[nd])
                go_left[:] = num_left
                if cat.any():
                    lut = self._category_table(t)
                    ci = np.nonzero(cat)[0]
                    cv = v[ci]
                    cnan = np.isnan(cv)
                    # NaN goes right; codes truncate towards zero like int(v) (-0.5 is category
                    # 0, not negative); negative, ±inf and unseen codes read "not a member"
                    codes = np.trunc(np.where(cnan, 0.0, cv))
                    codes = np.where((codes < 0) | (codes >= lut.shape[1]), lut.shape[1] - 1, codes)
                    member = lut[nd[ci], codes.astype(np.int64)]
                    go_left[ci] = member & ~cnan
                child = np.where(go_left, left[nd], right[nd])
                is_leaf = child < 0
                new = np.where(
                    is_leaf, lval[np.where(is_leaf, ~child, 0)], nval[np.where(is_leaf, 0, child)]
                )
                # each active row visits exactly one node per level: (row, feature) pairs are unique
                contrib[idx, f] += new - value[idx]
                value[idx] = new
                node[idx] = np.where(is_leaf, 0, child)
                active[idx[is_leaf]] = False
            raw += value
        return raw, contrib
