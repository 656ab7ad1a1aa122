# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled path attribution for LightGBM models: ``Ensemble.explain`` / ``explain_row`` in C.

Why: batch scoring always writes reasons, and the NumPy level-by-level walk of
``xindai.scoring.trees.Ensemble.explain`` runs ~15x slower than LightGBM's own ``predict``; this
kernel walks every row through flat C arrays of nodes with the GIL released, so batches can also be
spread over threads.

Invariants (checked by ``tests/unit/scoring/test_trees_native.py`` against the Python reference in
``trees.py``, which stays the specification and the fallback when this module is not built):

* the decision rule of every node is ``Ensemble.explain_row``'s (LightGBM's ``NumericalDecision`` /
  ``CategoricalDecision``): kind 0/1/2 numeric with missing type none/zero/NaN, kinds 3/4
  categorical, where NaN, negative, ±inf and unseen codes go right; a category code is truncated
  towards zero like ``int(v)``, so -0.5 is category 0 and -1 is "negative: right";
* the arithmetic is ``explain_row``'s, operation for operation and in the same order: the raw score
  starts at 0.0 and adds each tree's leaf value in model order, constant trees in their place
  (LightGBM's order too, so raw scores equal ``predict(raw_score=True)`` exactly); each feature's
  attribution starts at 0.0 and adds ``child value - parent value`` along each path, trees
  in model order, root to leaf. Results are therefore bit-identical (no reassociation, and the
  module does no multiplication that a compiler could fuse into an FMA);
* the kernel only reads the model; one ``Forest`` may be used by several threads at once, each on
  its own rows and output slices.
"""

from libc.stdint cimport int32_t, uint32_t, uint8_t
from cpython.mem cimport PyMem_Free, PyMem_Malloc

cdef double K_ZERO = 1e-35
# rows per block in the batch walk: the block's rows and attributions stay in L1/L2 while every
# tree's nodes are read once per block instead of once per row (32 measured ~15% faster than 64
# or 128 on the Taiwan model)
cdef enum:
    BLOCK = 32


ctypedef struct Node:
    double threshold
    double value[2]    # values of the right [0] and left [1] child (internal value or leaf value)
    int32_t child[2]   # global indices of the right [0] and left [1] child node, -1 for a leaf
    int32_t feature
    int32_t cat_off    # first 32-bit word of the category bitset in ``words``
    int32_t cat_words  # number of words (0 for numeric splits)
    uint8_t kind       # 0/1/2 numeric (missing none/zero/NaN), 3/4 categorical
    uint8_t dleft
    uint8_t nan_left   # where NaN goes for kinds 0 and 2: 0.0 <= threshold, resp. default_left


cdef inline int _go_left(const Node* nd, double v, const uint32_t* words) noexcept nogil:
    cdef int iv
    if nd.kind == 0 or nd.kind == 2:
        # the common case without a branch on the data (NaN compares false with everything)
        return <int>(v <= nd.threshold) | (<int>(v != v) & nd.nan_left)
    if nd.kind >= 3:
        # NaN, int(v) < 0 or beyond the bitset (also ±inf and values that overflow a C int): right
        if not (v > -1.0) or v >= nd.cat_words * 32.0:
            return False
        iv = <int>v
        return (words[nd.cat_off + (iv >> 5)] >> (iv & 31)) & 1
    if v != v:
        # NaN: the default direction for missing type NaN or zero (NaN is read as 0.0, which is
        # zero), otherwise 0.0 <= threshold
        if nd.kind == 0:
            return 0.0 <= nd.threshold
        return nd.dleft
    if nd.kind == 1 and -K_ZERO <= v <= K_ZERO:
        return nd.dleft
    return v <= nd.threshold


cdef class Forest:
    """All trees of an ensemble as one flat node array; built from ``Ensemble._flat`` (per tree:
    root value and node tuples ``(feature, threshold, kind, default_left, left, right, left value,
    right value, category set)``; a constant tree has no nodes and its root value is its leaf)."""

    cdef Node* nodes
    cdef uint32_t* words
    cdef int32_t* roots
    cdef double* root_values
    cdef Py_ssize_t n_trees
    cdef Py_ssize_t n_nodes
    cdef object flat  # the tuples it was built from: pickling rebuilds from them
    cdef readonly Py_ssize_t n_features
    cdef readonly Py_ssize_t min_columns  # 1 + the largest feature index used by a split

    def __cinit__(self, list flat, Py_ssize_t n_features):
        self.nodes = NULL
        self.words = NULL
        self.roots = NULL
        self.root_values = NULL
        self.n_features = n_features
        self.n_trees = len(flat)
        self.flat = flat
        cdef Py_ssize_t n_nodes = 0, n_words = 0, t, i, base, w, c
        cdef int32_t max_feature = -1
        cdef Node* nd
        for _, tree_nodes in flat:
            n_nodes += len(tree_nodes)
            for node in tree_nodes:
                cats = node[8]
                if cats:
                    n_words += max(cats) // 32 + 1
        self.n_nodes = n_nodes
        self.nodes = <Node*>PyMem_Malloc(max(n_nodes, 1) * sizeof(Node))
        self.words = <uint32_t*>PyMem_Malloc(max(n_words, 1) * sizeof(uint32_t))
        self.roots = <int32_t*>PyMem_Malloc(max(self.n_trees, 1) * sizeof(int32_t))
        self.root_values = <double*>PyMem_Malloc(max(self.n_trees, 1) * sizeof(double))
        if not (self.nodes and self.words and self.roots and self.root_values):
            raise MemoryError()
        base = 0
        n_words = 0
        for t, (root, tree_nodes) in enumerate(flat):
            self.roots[t] = <int32_t>base if tree_nodes else -1  # -1: a constant tree
            self.root_values[t] = root
            for i, node in enumerate(tree_nodes):
                f, thr, kind, dleft, lc, rc, lv, rv, cats = node
                nd = &self.nodes[base + i]
                nd.feature = f
                if f < 0:
                    raise ValueError(f"negative split feature {f}")
                max_feature = max(max_feature, <int32_t>f)
                nd.threshold = thr
                nd.kind = kind
                nd.dleft = 1 if dleft else 0
                nd.nan_left = (1 if 0.0 <= thr else 0) if kind == 0 else nd.dleft
                nd.child[1] = <int32_t>(base + lc) if lc >= 0 else -1
                nd.child[0] = <int32_t>(base + rc) if rc >= 0 else -1
                nd.value[1] = lv
                nd.value[0] = rv
                nd.cat_off = <int32_t>n_words
                nd.cat_words = 0
                if cats:
                    nd.cat_words = max(cats) // 32 + 1
                    for w in range(nd.cat_words):
                        self.words[n_words + w] = 0
                    for c in cats:
                        self.words[n_words + c // 32] |= (<uint32_t>1) << (c % 32)
                    n_words += nd.cat_words
            base += len(tree_nodes)
        self.min_columns = max_feature + 1

    def __reduce__(self):
        return Forest, (self.flat, self.n_features)

    def __dealloc__(self):
        PyMem_Free(self.nodes)
        PyMem_Free(self.words)
        PyMem_Free(self.roots)
        PyMem_Free(self.root_values)

    cdef inline double _walk(self, Py_ssize_t t, const double* xi, double* ci) noexcept nogil:
        """One row through tree ``t``: adds the path's credits to ``ci``, returns the leaf value."""
        cdef const Node* nd
        cdef int32_t node = self.roots[t]
        cdef double value = self.root_values[t]
        cdef int32_t f
        cdef double new
        cdef int side
        while True:
            # the side is data, not control flow: a mispredicted branch per node costs more than
            # the two loads it would save
            nd = &self.nodes[node]
            f = nd.feature
            side = _go_left(nd, xi[f], self.words)
            new = nd.value[side]
            ci[f] += new - value
            value = new
            node = nd.child[side]
            if node < 0:
                return value

    cdef void _rows(self, const double* x, Py_ssize_t n, Py_ssize_t stride, double* raw,
                    double* contrib, Py_ssize_t k) noexcept nogil:
        # Blocks of rows, trees outside, rows inside: the block's rows step through a tree in
        # lockstep (independent chains of loads the CPU overlaps), the rows still on their way
        # kept in a compacted list (no unpredictable "already at a leaf?" branch). Each row still
        # sees the trees in model order and its path root to leaf, so its sums are the same as
        # walking it alone.
        cdef const Node* nodes = self.nodes
        cdef const uint32_t* words = self.words
        cdef Py_ssize_t start = 0, stop, m, i, t, a, na, j
        cdef int32_t node[BLOCK]
        cdef int32_t active[BLOCK]
        cdef double value[BLOCK]
        cdef const Node* nd
        cdef int32_t f, root
        cdef int side
        cdef double new, root_value
        while start < n:
            stop = min(start + BLOCK, n)
            m = stop - start
            for i in range(m):
                raw[start + i] = 0.0
            for t in range(self.n_trees):
                root = self.roots[t]
                root_value = self.root_values[t]
                if root >= 0:
                    for i in range(m):
                        node[i] = root
                        value[i] = root_value
                        active[i] = <int32_t>i
                    na = m
                    while na:
                        j = 0
                        for a in range(na):
                            i = active[a]
                            nd = &nodes[node[i]]
                            f = nd.feature
                            side = _go_left(nd, x[(start + i) * stride + f], words)
                            new = nd.value[side]
                            if contrib != NULL:  # NULL: raw scores only (predict_into)
                                contrib[(start + i) * k + f] += new - value[i]
                            value[i] = new
                            node[i] = nd.child[side]
                            active[j] = <int32_t>i
                            j += node[i] >= 0
                        na = j
                else:  # a constant tree: its value for every row
                    for i in range(m):
                        value[i] = root_value
                for i in range(m):
                    raw[start + i] += value[i]
            start = stop

    def predict_into(self, const double[:, ::1] x, double[::1] raw):
        """Fill ``raw`` (n,) with the raw scores only (LightGBM's ``predict(raw_score=True)``);
        ``x`` is (n, ≥ the model's features), C-contiguous. Releases the GIL."""
        cdef Py_ssize_t n = x.shape[0]
        if raw.shape[0] != n:
            raise ValueError("x and raw must have the same number of rows")
        if x.shape[1] < self.min_columns:
            raise IndexError(f"the model splits on feature {self.min_columns - 1}")
        if n == 0:
            return
        with nogil:
            self._rows(&x[0, 0], n, x.shape[1], &raw[0], NULL, 0)

    def explain_into(self, const double[:, ::1] x, double[::1] raw, double[:, ::1] contrib):
        """Fill ``raw`` (n,) and add the attributions to ``contrib`` (n, k), which must be zeros
        on entry; ``x`` is (n, ≥ the model's features), C-contiguous. Releases the GIL."""
        cdef Py_ssize_t n = x.shape[0]
        if raw.shape[0] != n or contrib.shape[0] != n:
            raise ValueError("x, raw and contrib must have the same number of rows")
        if contrib.shape[1] != self.n_features:
            raise ValueError(f"contrib has {contrib.shape[1]} columns, not {self.n_features}")
        if x.shape[1] < self.min_columns or self.n_features < self.min_columns:
            raise IndexError(f"the model splits on feature {self.min_columns - 1}")
        if n == 0:
            return
        with nogil:
            self._rows(&x[0, 0], n, x.shape[1], &raw[0], &contrib[0, 0], contrib.shape[1])

    def explain_row(self, row):
        """``Ensemble.explain_row`` for one row (a sequence of floats): ``(raw, attributions)``."""
        cdef Py_ssize_t m = len(row), k = self.n_features, j, t
        if m < self.min_columns or k < self.min_columns:
            raise IndexError(f"the model splits on feature {self.min_columns - 1}")
        cdef double* buf = <double*>PyMem_Malloc((m + k + 1) * sizeof(double))
        if buf == NULL:
            raise MemoryError()
        cdef double* ci = buf + m
        cdef double raw = 0.0
        try:
            for j in range(m):
                buf[j] = row[j]
            for j in range(k):
                ci[j] = 0.0
            for t in range(self.n_trees):
                raw += self.root_values[t] if self.roots[t] < 0 else self._walk(t, buf, ci)
            return raw, [ci[j] for j in range(k)]
        finally:
            PyMem_Free(buf)
