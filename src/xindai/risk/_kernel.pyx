# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled window kernel: the rings of ``xindai.risk.windows`` and the hot indicator operations
of ``xindai.risk.indicators``, in Cython.

Why: in pure Python one transaction costs ~35 µs of ring updates and closure calls; the same work
here costs a few µs, which is what lets one core keep up with 50,000 events/s.

Invariants (checked by ``tests/unit/risk/test_native.py`` against the pure-Python reference, which
stays the specification and the fallback when this module is not built):

* every ring has the Python class's API (``add``, ``advance``, ``dump``, ``load`` and the read-out
  attributes) and the same ``dump`` output for the same calls, so checkpoints move freely between
  the two implementations;
* bucket numbers are ``int(ts // width)`` with Python's float floor division (``_floordiv`` is
  CPython's algorithm), so edge cases fall in the same bucket;
* sums and sums of squares stay Python numbers (exact ints for fen amounts, floats for float
  attributes) and every read-out divides the way the Python code does, so indicator values are
  bit-identical; counts and bucket ids are C integers;
* the operations write the same indicator names, in the same order, as the generated Python plan.
"""

from libc.math cimport copysign, floor, fmod, sqrt
from libc.stdint cimport int64_t
from libc.string cimport memmove
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc

cdef double NAN = float("nan")
cdef int64_t NEG_INF_BUCKET = -(1 << 62)
cdef double SHANGHAI_OFFSET_S = 8 * 3600


cdef inline double _floordiv(double vx, double wx) noexcept:
    """``vx // wx`` exactly as CPython computes it for floats (``float_floor_div``)."""
    cdef double mod = fmod(vx, wx)
    cdef double div = (vx - mod) / wx
    cdef double fd
    if mod:
        if (wx < 0) != (mod < 0):
            mod += wx
            div -= 1.0
    if div:
        fd = floor(div)
        if div - fd > 0.5:
            fd += 1.0
    else:
        fd = copysign(0.0, vx / wx)
    return fd


cdef inline int64_t _bucket(double ts, double width) noexcept:
    return <int64_t>_floordiv(ts, width)


cdef inline int64_t _pymod(int64_t a, int64_t b) noexcept:
    cdef int64_t r = a % b
    if r != 0 and ((r < 0) != (b < 0)):
        r += b
    return r


cpdef int local_hour(double ts):
    """Hour of day in Asia/Shanghai (fixed UTC+8), as ``xindai.risk.geo.local_hour``."""
    return <int>_pymod(<int64_t>_floordiv(ts + SHANGHAI_OFFSET_S, 3600.0), 24)


cpdef int local_weekday(double ts):
    """Day of week in Asia/Shanghai, Monday = 0, as ``xindai.risk.geo.local_weekday``."""
    return <int>_pymod(<int64_t>_floordiv(ts + SHANGHAI_OFFSET_S, 86400.0) + 3, 7)


# --- a deque of buckets ---------------------------------------------------------------------------

cdef class _Buckets:
    """Buckets in time order: C arrays of ids and two integer counters, plus ``k`` Python objects
    per bucket (sums kept exact). Front removal moves a start index; the arrays are compacted or
    doubled when the back reaches the end, so every operation is O(1) amortised."""

    cdef int64_t *bid
    cdef int64_t *c1
    cdef int64_t *c2
    cdef list objs
    cdef Py_ssize_t start, size, cap
    cdef int k

    def __cinit__(self, int k):
        self.k = k
        self.cap = 4
        self.start = 0
        self.size = 0
        self.bid = <int64_t *>PyMem_Malloc(self.cap * sizeof(int64_t))
        self.c1 = <int64_t *>PyMem_Malloc(self.cap * sizeof(int64_t))
        self.c2 = <int64_t *>PyMem_Malloc(self.cap * sizeof(int64_t))
        if not self.bid or not self.c1 or not self.c2:
            raise MemoryError()
        self.objs = [None] * (self.cap * k)

    def __dealloc__(self):
        PyMem_Free(self.bid)
        PyMem_Free(self.c1)
        PyMem_Free(self.c2)

    cdef inline int64_t first(self) noexcept:
        return self.bid[self.start]

    cdef inline int64_t last(self) noexcept:
        return self.bid[self.start + self.size - 1]

    cdef inline object get(self, Py_ssize_t i, int j):
        return self.objs[(self.start + i) * self.k + j]

    cdef inline void put(self, Py_ssize_t i, int j, object v):
        self.objs[(self.start + i) * self.k + j] = v

    cdef int _room(self) except -1:
        """Make room for one more bucket at the back."""
        cdef Py_ssize_t k = self.k, s = self.start, n = self.size, j
        if s + n < self.cap:
            return 0
        if s > 0:
            memmove(self.bid, self.bid + s, n * sizeof(int64_t))
            memmove(self.c1, self.c1 + s, n * sizeof(int64_t))
            memmove(self.c2, self.c2 + s, n * sizeof(int64_t))
            if k:
                self.objs[0 : n * k] = self.objs[s * k : (s + n) * k]
                for j in range(n * k, self.cap * k):
                    self.objs[j] = None
            self.start = 0
            return 0
        cdef Py_ssize_t cap = self.cap * 2
        cdef int64_t *b = <int64_t *>PyMem_Realloc(self.bid, cap * sizeof(int64_t))
        if not b:
            raise MemoryError()
        self.bid = b
        b = <int64_t *>PyMem_Realloc(self.c1, cap * sizeof(int64_t))
        if not b:
            raise MemoryError()
        self.c1 = b
        b = <int64_t *>PyMem_Realloc(self.c2, cap * sizeof(int64_t))
        if not b:
            raise MemoryError()
        self.c2 = b
        if k:
            self.objs.extend([None] * ((cap - self.cap) * k))
        self.cap = cap
        return 0

    cdef Py_ssize_t push(self, int64_t b, object zero) except -1:
        """Append bucket ``b`` (counters 0, objects ``zero``); returns its index."""
        cdef int j
        self._room()
        cdef Py_ssize_t p = self.start + self.size
        self.bid[p] = b
        self.c1[p] = 0
        self.c2[p] = 0
        for j in range(self.k):
            self.objs[p * self.k + j] = zero
        self.size += 1
        return self.size - 1

    cdef void pop(self):
        """Drop the front bucket."""
        cdef int j
        for j in range(self.k):
            self.objs[self.start * self.k + j] = None
        self.start += 1
        self.size -= 1
        if self.size == 0:
            self.start = 0

    cdef Py_ssize_t late(self, int64_t b, object zero) except -1:
        """Index of bucket ``b``, which lies left of the back; inserted in order if absent."""
        cdef Py_ssize_t idx = self.size - 1, i, p, kk = self.k
        cdef int j
        while idx >= 0 and self.bid[self.start + idx] > b:
            idx -= 1
        if idx >= 0 and self.bid[self.start + idx] == b:
            return idx
        self._room()
        idx += 1  # insert here: shift [idx, size) right by one
        p = self.start + idx
        memmove(self.bid + p + 1, self.bid + p, (self.size - idx) * sizeof(int64_t))
        memmove(self.c1 + p + 1, self.c1 + p, (self.size - idx) * sizeof(int64_t))
        memmove(self.c2 + p + 1, self.c2 + p, (self.size - idx) * sizeof(int64_t))
        if kk:
            for i in range((self.start + self.size) * kk - 1, p * kk - 1, -1):
                self.objs[i + kk] = self.objs[i]
        self.bid[p] = b
        self.c1[p] = 0
        self.c2[p] = 0
        for j in range(kk):
            self.objs[p * kk + j] = zero
        self.size += 1
        return idx

    cdef list dump(self, int counters):
        """``[[bid, c1(, c2), objects...], ...]`` — the Python rings' bucket lists."""
        cdef list out = []
        cdef list row
        cdef Py_ssize_t i
        cdef int j
        for i in range(self.size):
            row = [self.bid[self.start + i]]
            if counters >= 1:
                row.append(self.c1[self.start + i])
            if counters >= 2:
                row.append(self.c2[self.start + i])
            for j in range(self.k):
                row.append(self.get(i, j))
            out.append(row)
        return out

    cdef int load(self, object rows, int counters) except -1:
        cdef Py_ssize_t i
        cdef int j
        cdef object row
        while self.size:
            self.pop()
        for row in rows:
            i = self.push(row[0], None)
            if counters >= 1:
                self.c1[self.start + i] = row[1]
            if counters >= 2:
                self.c2[self.start + i] = row[2]
            for j in range(self.k):
                self.put(i, j, row[1 + counters + j])
        return 0


# --- rings ----------------------------------------------------------------------------------------

cdef class SumRing:
    """Count, sum and sum of squares over a sliding window (ints stay exact)."""

    cdef readonly double width
    cdef readonly int64_t n
    cdef public int64_t head
    cdef public int64_t count
    cdef public object total
    cdef public object sq
    cdef _Buckets b

    def __init__(self, double width, int64_t n):
        self.width = width
        self.n = n
        self.head = NEG_INF_BUCKET
        self.count = 0
        self.total = 0
        self.sq = 0
        self.b = _Buckets(2)

    cdef inline void _expire(self):
        cdef _Buckets b = self.b
        cdef int64_t low = self.head - self.n
        if b.size and b.first() <= low:
            while b.size and b.first() <= low:
                self.count -= b.c1[b.start]
                self.total = self.total - b.get(0, 0)
                self.sq = self.sq - b.get(0, 1)
                b.pop()
            if not b.size:
                self.count = 0
                self.total = 0
                self.sq = 0

    cpdef advance(self, double ts):
        """Move the watermark to ``ts`` (if later) and expire buckets that fell out."""
        cdef int64_t bid = _bucket(ts, self.width)
        if bid > self.head:
            self.head = bid
        self._expire()

    cpdef bint add(self, double ts, object x=1) except -1:
        """Add one observation at ``ts``; ``False`` if it is older than the ring."""
        cdef int64_t bid = _bucket(ts, self.width)
        cdef _Buckets b = self.b
        cdef Py_ssize_t i
        if bid > self.head:
            self.head = bid
        self._expire()
        if bid <= self.head - self.n:
            return False
        if b.size and b.last() == bid:
            i = b.size - 1
        elif not b.size or b.last() < bid:
            i = b.push(bid, 0)
        else:
            i = b.late(bid, 0)
        xx = x * x
        b.c1[b.start + i] += 1
        b.put(i, 0, b.get(i, 0) + x)
        b.put(i, 1, b.get(i, 1) + xx)
        self.count += 1
        self.total = self.total + x
        self.sq = self.sq + xx
        return True

    def dump(self):
        return [self.head, self.count, self.total, self.sq, self.b.dump(1)]

    def load(self, data):
        self.head, self.count, self.total, self.sq = data[0], data[1], data[2], data[3]
        self.b.load(data[4], 1)


cdef class MultiRing:
    """One ring feeding several aggregates: all-events count, and count, sum and sum of squares of
    the events that carry a value. ``add(ts, None)`` counts without a value."""

    cdef readonly double width
    cdef readonly int64_t n
    cdef public int64_t head
    cdef public int64_t count
    cdef public int64_t nx
    cdef public object total
    cdef public object sq
    cdef _Buckets b

    def __init__(self, double width, int64_t n):
        self.width = width
        self.n = n
        self.head = NEG_INF_BUCKET
        self.count = 0
        self.nx = 0
        self.total = 0
        self.sq = 0
        self.b = _Buckets(2)

    cdef inline void _expire(self):
        cdef _Buckets b = self.b
        cdef int64_t low = self.head - self.n
        if b.size and b.first() <= low:
            while b.size and b.first() <= low:
                self.count -= b.c1[b.start]
                self.nx -= b.c2[b.start]
                self.total = self.total - b.get(0, 0)
                self.sq = self.sq - b.get(0, 1)
                b.pop()
            if not b.size:
                self.count = 0
                self.nx = 0
                self.total = 0
                self.sq = 0

    cpdef advance(self, double ts):
        cdef int64_t bid = _bucket(ts, self.width)
        if bid > self.head:
            self.head = bid
        self._expire()

    cpdef bint add(self, double ts, object x) except -1:
        cdef int64_t bid = _bucket(ts, self.width)
        cdef _Buckets b = self.b
        cdef Py_ssize_t i
        if bid > self.head:
            self.head = bid
        self._expire()
        if bid <= self.head - self.n:
            return False
        if b.size and b.last() == bid:
            i = b.size - 1
        elif not b.size or b.last() < bid:
            i = b.push(bid, 0)
        else:
            i = b.late(bid, 0)
        b.c1[b.start + i] += 1
        self.count += 1
        if x is not None:
            xx = x * x
            b.c2[b.start + i] += 1
            b.put(i, 0, b.get(i, 0) + x)
            b.put(i, 1, b.get(i, 1) + xx)
            self.nx += 1
            self.total = self.total + x
            self.sq = self.sq + xx
        return True

    def dump(self):
        return [self.head, self.count, self.nx, self.total, self.sq, self.b.dump(2)]

    def load(self, data):
        self.head, self.count, self.nx, self.total, self.sq = data[0], data[1], data[2], data[3], data[4]
        self.b.load(data[5], 2)


cdef class MaxRing:
    """Maximum over a sliding window; the cached max is recomputed only when its bucket expires."""

    cdef readonly double width
    cdef readonly int64_t n
    cdef public int64_t head
    cdef public object best
    cdef _Buckets b

    def __init__(self, double width, int64_t n):
        self.width = width
        self.n = n
        self.head = NEG_INF_BUCKET
        self.best = None
        self.b = _Buckets(1)

    cdef int _expire(self) except -1:
        cdef _Buckets b = self.b
        cdef int64_t low = self.head - self.n
        cdef bint dropped = False
        cdef Py_ssize_t i
        while b.size and b.first() <= low:
            if b.get(0, 0) == self.best:
                dropped = True
            b.pop()
        if dropped or not b.size:
            best = None
            for i in range(b.size):  # ``max(...)``: the first of equal maxima wins
                v = b.get(i, 0)
                if best is None or v > best:
                    best = v
            self.best = best
        return 0

    cpdef advance(self, double ts):
        cdef int64_t bid = _bucket(ts, self.width)
        if bid > self.head:
            self.head = bid
        self._expire()

    cpdef bint add(self, double ts, object x) except -1:
        cdef int64_t bid = _bucket(ts, self.width)
        cdef _Buckets b = self.b
        cdef Py_ssize_t i, size
        if bid > self.head:
            self.head = bid
        self._expire()
        if bid <= self.head - self.n:
            return False
        if b.size and b.last() == bid:
            if x > b.get(b.size - 1, 0):
                b.put(b.size - 1, 0, x)
        elif not b.size or b.last() < bid:
            i = b.push(bid, x)
        else:
            size = b.size
            i = b.late(bid, x)
            if b.size == size:  # existing bucket: ``max(old, x)``
                if x > b.get(i, 0):
                    b.put(i, 0, x)
        if self.best is None or x > self.best:
            self.best = x
        return True

    def dump(self):
        return [self.head, self.best, self.b.dump(0)]

    def load(self, data):
        self.head, self.best = data[0], data[1]
        self.b.load(data[2], 0)


cdef class DelayedRing:
    """Counts and positives over a window that ends ``delay`` buckets before the watermark."""

    cdef readonly double width
    cdef readonly int64_t n
    cdef readonly int64_t delay
    cdef public int64_t head
    cdef public int64_t count
    cdef public int64_t positives
    cdef _Buckets pending
    cdef _Buckets matured

    def __init__(self, double width, int64_t n, int64_t delay):
        self.width = width
        self.n = n
        self.delay = delay
        self.head = NEG_INF_BUCKET
        self.count = 0
        self.positives = 0
        self.pending = _Buckets(0)
        self.matured = _Buckets(0)

    cpdef advance(self, double ts):
        cdef int64_t bid = _bucket(ts, self.width)
        cdef _Buckets p = self.pending, m = self.matured
        cdef Py_ssize_t i
        if bid > self.head:
            self.head = bid
        cdef int64_t ripe = self.head - self.delay
        while p.size and p.first() <= ripe:
            i = m.push(p.first(), None)
            m.c1[m.start + i] = p.c1[p.start]
            m.c2[m.start + i] = p.c2[p.start]
            self.count += p.c1[p.start]
            self.positives += p.c2[p.start]
            p.pop()
        cdef int64_t low = ripe - self.n
        while m.size and m.first() <= low:
            self.count -= m.c1[m.start]
            self.positives -= m.c2[m.start]
            m.pop()

    cpdef bint add(self, double ts, int64_t positive) except -1:
        cdef int64_t bid = _bucket(ts, self.width)
        cdef _Buckets p = self.pending
        cdef Py_ssize_t i
        self.advance(ts)
        if bid <= self.head - self.delay - self.n:
            return False
        if bid <= self.head - self.delay:
            # Rare: a late event whose bucket has already matured.
            i = self.matured.late(bid, None)
            self.matured.c1[self.matured.start + i] += 1
            self.matured.c2[self.matured.start + i] += positive
            self.count += 1
            self.positives += positive
            return True
        if p.size and p.last() == bid:
            i = p.size - 1
        elif not p.size or p.last() < bid:
            i = p.push(bid, None)
        else:
            i = p.late(bid, None)
        p.c1[p.start + i] += 1
        p.c2[p.start + i] += positive
        return True

    def dump(self):
        return [self.head, self.count, self.positives, self.pending.dump(2), self.matured.dump(2)]

    def load(self, data):
        self.head, self.count, self.positives = data[0], data[1], data[2]
        self.pending.load(data[3], 2)
        self.matured.load(data[4], 2)


cdef class Last:
    """A small mutable record for kinds that remember the previous observation."""

    cdef public object a, b, c, d

    def __init__(self):
        self.a = self.b = self.c = self.d = None

    def dump(self):
        return [self.a, self.b, self.c, self.d]

    def load(self, data):
        self.a, self.b, self.c, self.d = data


# --- operations -----------------------------------------------------------------------------------

cdef class Op:
    """One slot of a key's state: creates it on the first event it counts, then updates it (an
    event it counts) or reads it (any other event), writing its indicator value(s)."""

    cdef Py_ssize_t idx
    cdef bint counts
    cdef dict empties
    cdef object where_attr, where_value
    cdef object field_attr  # None: the amount in fen; else a numeric attribute's name

    def __init__(self, Py_ssize_t idx, bint counts, dict empties, where_attr=None, where_value=None,
                 field_attr=None):
        self.idx = idx
        self.counts = counts
        self.empties = empties
        self.where_attr = where_attr
        self.where_value = where_value
        self.field_attr = field_attr

    cdef object new_state(self):
        raise NotImplementedError

    cdef int update(self, object st, object ev, dict values) except -1:
        raise NotImplementedError

    cdef int read(self, object st, object ev, dict values) except -1:
        raise NotImplementedError

    cdef inline object number(self, object ev):
        """The numeric field: amount in fen, or a numeric (non-bool) attribute, else None."""
        if self.field_attr is None:
            return ev.amount_fen
        v = ev.attributes.get(self.field_attr)
        if v is None or type(v) is bool or not isinstance(v, (int, float)):
            return None
        return v

    cdef int apply(self, list slots, object ev, dict values) except -1:
        st = slots[self.idx]
        if st is None:
            if not self.counts:
                values.update(self.empties)
                return 0
            st = self.new_state()
            slots[self.idx] = st
        if not self.counts:
            return self.read(st, ev, values)
        if self.where_attr is not None and not (ev.attributes.get(self.where_attr) == self.where_value):
            return self.read(st, ev, values)
        return self.update(st, ev, values)


cdef inline double _history(MultiRing st, object x, bint zscore) except? -1.0:
    """The value against the window's history before it (``indicators._history_fn``)."""
    cdef int64_t count = st.nx
    cdef double mean, var
    if count == 0:
        return NAN
    mean = st.total / count
    if not zscore:
        return <double>x / mean if mean else NAN
    if count < 2:
        return NAN
    var = st.sq / count - mean * mean
    if not (var > 0.0):
        var = 0.0
    return (<double>x - mean) / sqrt(var) if var > 0 else 0.0


cdef class FusedOp(Op):
    """``FusedRing``: counts, sums, means, z-scores and ratios sharing one ``MultiRing``."""

    cdef double width
    cdef int64_t n
    cdef double scale
    cdef tuple pre   # (name, zscore)
    cdef tuple post  # (name, 0 count | 1 sum | 2 mean)
    cdef bint numeric

    def configure(self, double width, int64_t n, double scale, tuple pre, tuple post, bint numeric):
        self.width, self.n, self.scale = width, n, scale
        self.pre, self.post, self.numeric = pre, post, numeric
        return self

    cdef object new_state(self):
        return MultiRing(self.width, self.n)

    cdef inline int _pre(self, MultiRing st, object x, dict values) except -1:
        for name, zscore in self.pre:
            values[name] = NAN if x is None else _history(st, x, zscore)
        return 0

    cdef inline int _post(self, MultiRing st, dict values) except -1:
        cdef int what
        for name, what in self.post:
            if what == 0:
                values[name] = <double>st.count
            elif what == 1:
                values[name] = <double>st.total / self.scale
            else:
                values[name] = (st.total / st.nx) / self.scale if st.nx else 0.0
        return 0

    cdef int update(self, object state, object ev, dict values) except -1:
        cdef MultiRing st = <MultiRing?>state
        cdef double ts = ev.ts
        x = self.number(ev) if self.numeric else None
        if self.pre:
            st.advance(ts)
            self._pre(st, x, values)
        st.add(ts, x)
        return self._post(st, values)

    cdef int read(self, object state, object ev, dict values) except -1:
        cdef MultiRing st = <MultiRing?>state
        x = self.number(ev) if self.numeric else None
        st.advance(ev.ts)
        self._pre(st, x, values)
        return self._post(st, values)


cdef class DelayedOp(Op):
    """``delayed_count`` / ``delayed_rate`` (one or several sharing a ``DelayedRing``)."""

    cdef double width
    cdef int64_t n, delay
    cdef tuple outs  # (name, rate)

    def configure(self, double width, int64_t n, int64_t delay, tuple outs):
        self.width, self.n, self.delay, self.outs = width, n, delay, outs
        return self

    cdef object new_state(self):
        return DelayedRing(self.width, self.n, self.delay)

    cdef int read(self, object state, object ev, dict values) except -1:
        cdef DelayedRing st = <DelayedRing?>state
        st.advance(ev.ts)
        cdef int64_t count = st.count
        for name, rate in self.outs:
            if rate:
                values[name] = <double>st.positives / <double>count if count else 0.0
            else:
                values[name] = <double>count
        return 0

    cdef int update(self, object state, object ev, dict values) except -1:
        cdef DelayedRing st = <DelayedRing?>state
        st.add(ev.ts, 1 if ev.label else 0)
        return self.read(state, ev, values)


cdef class MaxOp(Op):
    cdef double width, scale
    cdef int64_t n
    cdef object name

    def configure(self, name, double width, int64_t n, double scale):
        self.name, self.width, self.n, self.scale = name, width, n, scale
        return self

    cdef object new_state(self):
        return MaxRing(self.width, self.n)

    cdef int read(self, object state, object ev, dict values) except -1:
        cdef MaxRing st = <MaxRing?>state
        st.advance(ev.ts)
        values[self.name] = NAN if st.best is None else <double>st.best / self.scale
        return 0

    cdef int update(self, object state, object ev, dict values) except -1:
        cdef MaxRing st = <MaxRing?>state
        x = self.number(ev)
        if x is None:
            st.advance(ev.ts)
        else:
            st.add(ev.ts, x)
        values[self.name] = NAN if st.best is None else <double>st.best / self.scale
        return 0


cdef class NightShareOp(Op):
    cdef double width
    cdef int64_t n
    cdef object name

    def configure(self, name, double width, int64_t n):
        self.name, self.width, self.n = name, width, n
        return self

    cdef object new_state(self):
        return SumRing(self.width, self.n)

    cdef inline int _value(self, SumRing st, dict values) except -1:
        values[self.name] = <double>st.total / <double>st.count if st.count else 0.0
        return 0

    cdef int read(self, object state, object ev, dict values) except -1:
        cdef SumRing st = <SumRing?>state
        st.advance(ev.ts)
        return self._value(st, values)

    cdef int update(self, object state, object ev, dict values) except -1:
        cdef SumRing st = <SumRing?>state
        cdef double ts = ev.ts
        st.add(ts, 1 if local_hour(ts) < 6 else 0)
        return self._value(st, values)


cdef class SinceLastOp(Op):
    cdef object name

    def configure(self, name):
        self.name = name
        return self

    cdef object new_state(self):
        return Last()

    cdef int read(self, object state, object ev, dict values) except -1:
        cdef Last st = <Last?>state
        cdef double gap
        if st.a is None:
            values[self.name] = NAN
        else:
            gap = <double>ev.ts - <double>st.a
            values[self.name] = gap if gap > 0.0 else 0.0
        return 0

    cdef int update(self, object state, object ev, dict values) except -1:
        cdef Last st = <Last?>state
        last = st.a
        ts = ev.ts
        cdef double gap
        if last is None:
            values[self.name] = NAN
        else:
            gap = <double>ts - <double>last
            values[self.name] = gap if gap > 0.0 else 0.0
        if last is None or ts > last:
            st.a = ts
        return 0


cdef class EventOp(Op):
    """Stateless indicators of the event itself: ``local_hour``, ``is_night``, ``is_weekend``,
    ``value``."""

    cdef int kind  # 0 local_hour, 1 is_night, 2 is_weekend, 3 value
    cdef double scale
    cdef object name

    def configure(self, name, int kind, double scale):
        self.name, self.kind, self.scale = name, kind, scale
        return self

    cdef int update(self, object st, object ev, dict values) except -1:
        cdef double ts
        if self.kind == 3:
            x = self.number(ev)
            values[self.name] = NAN if x is None else <double>x / self.scale
            return 0
        ts = ev.ts
        if self.kind == 0:
            values[self.name] = <double>local_hour(ts)
        elif self.kind == 1:
            values[self.name] = 1.0 if local_hour(ts) < 6 else 0.0
        else:
            values[self.name] = 1.0 if local_weekday(ts) >= 5 else 0.0
        return 0

    cdef int apply(self, list slots, object ev, dict values) except -1:
        return self.update(None, ev, values)


cdef class PyOp(Op):
    """Any other indicator, through its Python ``update``/``read`` (which carry their own filter)."""

    cdef object factory, fn, name
    cdef bint fused

    def configure(self, name, factory, fn, bint fused):
        self.name, self.factory, self.fn, self.fused = name, factory, fn, fused
        return self

    cdef object new_state(self):
        return self.factory()

    cdef int apply(self, list slots, object ev, dict values) except -1:
        st = slots[self.idx] if slots is not None else None
        if slots is not None and st is None:
            if not self.counts:
                values.update(self.empties)
                return 0
            st = self.factory()
            slots[self.idx] = st
        if self.fused:
            self.fn(st, ev, values)
        else:
            values[self.name] = self.fn(st, ev)
        return 0


# --- the plan -------------------------------------------------------------------------------------

cdef class Group:
    """The slots of one key kind (subject, device, ip, terminal) or of the event itself."""

    cdef object attr  # the event attribute holding the key; None for the event kind
    cdef object kind
    cdef dict table
    cdef Py_ssize_t nslots
    cdef dict nans
    cdef list ops

    def __init__(self, kind, attr, dict table, Py_ssize_t nslots, dict nans, list ops):
        self.kind, self.attr, self.table, self.nslots = kind, attr, table, nslots
        self.nans, self.ops = nans, ops


cdef class Plan:
    """Every indicator of one event type, in the generated Python plan's order."""

    cdef list groups

    def __init__(self, list groups):
        self.groups = groups

    def __call__(self, ev, dict values, dirty):
        cdef Group g
        cdef Op op
        cdef list slots
        for g in self.groups:
            if g.attr is None:
                for op in g.ops:
                    op.apply(None, ev, values)
                continue
            key = getattr(ev, g.attr)
            if key is None:
                values.update(g.nans)
                continue
            slots = g.table.get(key)
            if slots is None:
                slots = [None] * g.nslots
                g.table[key] = slots
            if dirty is not None:
                dirty.add((g.kind, key))
            for op in g.ops:
                op.apply(slots, ev, values)
        return None
