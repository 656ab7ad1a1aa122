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

cimport cython
from libc.math cimport asin, copysign, cos, floor, fmod, sin, sqrt
from libc.stdint cimport INT64_MAX
from libc.stdint cimport int64_t
from libc.string cimport memmove, memset
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc

from collections import deque

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


# --- exact numbers: Python's int/float arithmetic on C values -------------------------------------

cdef extern from *:
    """
    typedef __int128 xd_i128;
    static inline int xd_add_ovf(xd_i128 a, xd_i128 b, xd_i128 *r) { return __builtin_add_overflow(a, b, r); }
    static inline int xd_sub_ovf(xd_i128 a, xd_i128 b, xd_i128 *r) { return __builtin_sub_overflow(a, b, r); }
    static inline int xd_fits_i64(xd_i128 a) { return a >= (xd_i128)INT64_MIN && a <= (xd_i128)INT64_MAX; }
    static inline int xd_exact_double(xd_i128 a) { return a >= -((xd_i128)1 << 53) && a <= ((xd_i128)1 << 53); }
    static inline long long xd_lo(xd_i128 a) { return (long long)a; }
    static inline unsigned long long xd_ulo(xd_i128 a) { return (unsigned long long)a; }
    static inline long long xd_hi(xd_i128 a) { return (long long)(a >> 64); }
    static inline xd_i128 xd_from_i64(long long v) { return (xd_i128)v; }
    static inline int xd_mul_ovf(xd_i128 a, xd_i128 b, xd_i128 *r) { return __builtin_mul_overflow(a, b, r); }
    static inline xd_i128 xd_make(long long hi, unsigned long long lo) { return (xd_i128)(((unsigned __int128)(hi) << 64) | lo); }
    static inline double xd_to_double(xd_i128 a) { return (double)a; }
    /* libm's pow itself, as Python's ``x ** 2`` calls it: gcc would turn pow(x, 2.0) into x * x,
       which can differ from glibc's pow in the last bit. */
    static double (*volatile xd_libm_pow)(double, double) = pow;
    static inline double xd_pow(double x, double y) { return xd_libm_pow(x, y); }
    static inline void xd_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }
    """
    ctypedef struct xd_i128:
        pass
    int xd_add_ovf(xd_i128 a, xd_i128 b, xd_i128 *r) noexcept
    int xd_sub_ovf(xd_i128 a, xd_i128 b, xd_i128 *r) noexcept
    int xd_fits_i64(xd_i128 a) noexcept
    int xd_exact_double(xd_i128 a) noexcept
    long long xd_lo(xd_i128 a) noexcept
    unsigned long long xd_ulo(xd_i128 a) noexcept
    long long xd_hi(xd_i128 a) noexcept
    xd_i128 xd_from_i64(long long v) noexcept
    int xd_mul_ovf(xd_i128 a, xd_i128 b, xd_i128 *r) noexcept
    xd_i128 xd_make(long long hi, unsigned long long lo) noexcept
    double xd_to_double(xd_i128 a) noexcept
    double xd_pow(double x, double y) noexcept
    void xd_prefetch(const void *p) noexcept

from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_FromLongLong, PyLong_AsDouble
from cpython.float cimport PyFloat_AS_DOUBLE


ctypedef struct Num:
    # A Python int (``isf == 0``: ``i``, 128-bit) or float (``isf == 1``: ``f``), with Python's
    # promotion rules. Ints or sums beyond 128 bits become floats — the one departure from
    # Python's unbounded ints (far beyond any fen amount or count).
    xd_i128 i
    double f
    int isf


cdef inline Num n_int(long long v) noexcept:
    cdef Num r
    r.i = xd_from_i64(v)
    r.f = 0.0
    r.isf = 0
    return r


cdef inline Num n_float(double v) noexcept:
    cdef Num r
    r.i = xd_from_i64(0)
    r.f = v
    r.isf = 1
    return r


cdef inline double n_d(Num a) noexcept:
    return a.f if a.isf else xd_to_double(a.i)


cdef inline Num n_add(Num a, Num b) noexcept:
    cdef Num r
    if not a.isf and not b.isf:
        if not xd_add_ovf(a.i, b.i, &r.i):
            r.f = 0.0
            r.isf = 0
            return r
    return n_float(n_d(a) + n_d(b))


cdef inline Num n_sub(Num a, Num b) noexcept:
    cdef Num r
    if not a.isf and not b.isf:
        if not xd_sub_ovf(a.i, b.i, &r.i):
            r.f = 0.0
            r.isf = 0
            return r
    return n_float(n_d(a) - n_d(b))


cdef inline Num n_sq(Num a) noexcept:
    if a.isf:
        return n_float(a.f * a.f)
    cdef Num r
    if xd_mul_ovf(a.i, a.i, &r.i):
        return n_float(n_d(a) * n_d(a))
    r.f = 0.0
    r.isf = 0
    return r


_I128_LIMIT = 1 << 127


cdef Num n_from(object x) except *:
    """A Python int or float (bools are ints, as in Python)."""
    cdef int overflow = 0
    cdef long long v
    cdef Num r
    if isinstance(x, float):
        return n_float(PyFloat_AS_DOUBLE(x))
    if isinstance(x, int):
        v = PyLong_AsLongLongAndOverflow(x, &overflow)
        if not overflow:
            return n_int(v)
        if -_I128_LIMIT <= x < _I128_LIMIT:
            r.i = xd_make(x >> 64, x & 0xFFFFFFFFFFFFFFFF)
            r.f = 0.0
            r.isf = 0
            return r
        return n_float(PyLong_AsDouble(x))
    return n_float(float(x))


cdef object n_py(Num a):
    if a.isf:
        return a.f
    if xd_fits_i64(a.i):
        return PyLong_FromLongLong(xd_lo(a.i))
    return (PyLong_FromLongLong(xd_hi(a.i)) << 64) | xd_ulo(a.i)


cdef inline bint n_gt(Num a, Num b) except -1:
    """``a > b`` with Python's exact int/float comparison."""
    if not a.isf and not b.isf:
        return xd_hi(a.i) > xd_hi(b.i) or (xd_hi(a.i) == xd_hi(b.i) and xd_ulo(a.i) > xd_ulo(b.i))
    if a.isf and b.isf:
        return a.f > b.f
    if (a.isf or xd_exact_double(a.i)) and (b.isf or xd_exact_double(b.i)):
        return n_d(a) > n_d(b)
    return n_py(a) > n_py(b)


cdef inline bint n_eq(Num a, Num b) except -1:
    if not a.isf and not b.isf:
        return xd_hi(a.i) == xd_hi(b.i) and xd_ulo(a.i) == xd_ulo(b.i)
    if a.isf and b.isf:
        return a.f == b.f
    if (a.isf or xd_exact_double(a.i)) and (b.isf or xd_exact_double(b.i)):
        return n_d(a) == n_d(b)
    return n_py(a) == n_py(b)


cdef inline double n_div(Num a, int64_t count) except? -1.0:
    """``a / count`` as Python's true division (correctly rounded for ints)."""
    if a.isf:
        return a.f / <double>count
    if xd_exact_double(a.i) and count < (1LL << 53):
        return xd_to_double(a.i) / <double>count
    return n_py(a) / count


# --- a deque of buckets ---------------------------------------------------------------------------

ctypedef struct CBucket:  # delayed rings: counts only
    int64_t bid
    int64_t c1
    int64_t c2

ctypedef struct NBucket:  # sum, multi and max rings
    int64_t bid
    int64_t c1
    int64_t c2
    Num s
    Num q


ctypedef struct Deq:
    # Buckets in time order in one C array (``esz`` bytes each, the id first). Front removal moves
    # ``start``; the array is compacted or doubled when the back reaches its end: O(1) amortised.
    char *a
    Py_ssize_t start
    Py_ssize_t size
    Py_ssize_t cap
    Py_ssize_t esz
    int64_t first  # id of the front bucket, kept here so an expiry check reads no bucket


cdef int deq_init(Deq *d, Py_ssize_t esz) except -1:
    d.esz = esz
    d.cap = 4
    d.start = 0
    d.size = 0
    d.a = <char *>PyMem_Malloc(d.cap * esz)
    if not d.a:
        raise MemoryError()
    return 0


cdef inline void *deq_at(Deq *d, Py_ssize_t i) noexcept:
    return d.a + (d.start + i) * d.esz


cdef inline int64_t deq_first(Deq *d) noexcept:
    return d.first


cdef inline int64_t deq_last(Deq *d) noexcept:
    return (<int64_t *>(d.a + (d.start + d.size - 1) * d.esz))[0]


cdef int deq_room(Deq *d) except -1:
    if d.start + d.size < d.cap:
        return 0
    if d.start > 0:
        memmove(d.a, d.a + d.start * d.esz, d.size * d.esz)
        d.start = 0
        return 0
    cdef char *grown = <char *>PyMem_Realloc(d.a, 2 * d.cap * d.esz)
    if not grown:
        raise MemoryError()
    d.a = grown
    d.cap *= 2
    return 0


cdef inline void deq_pop(Deq *d) noexcept:
    d.start += 1
    d.size -= 1
    if d.size == 0:
        d.start = 0
    else:
        d.first = (<int64_t *>(d.a + d.start * d.esz))[0]


cdef void *deq_push(Deq *d, int64_t bid) except NULL:
    """Append a zeroed bucket ``bid`` (ints 0) at the back."""
    deq_room(d)
    d.size += 1
    cdef void *b = deq_at(d, d.size - 1)
    memset(b, 0, d.esz)
    (<int64_t *>b)[0] = bid
    if d.size == 1:
        d.first = bid
    return b


cdef void *deq_late(Deq *d, int64_t bid, bint *created) except NULL:
    """Bucket ``bid``, which lies left of the back; inserted in order (zeroed) if absent."""
    cdef Py_ssize_t idx = d.size - 1
    while idx >= 0 and (<int64_t *>deq_at(d, idx))[0] > bid:
        idx -= 1
    if idx >= 0 and (<int64_t *>deq_at(d, idx))[0] == bid:
        created[0] = False
        return deq_at(d, idx)
    deq_room(d)
    idx += 1
    cdef char *p = <char *>deq_at(d, idx)
    memmove(p + d.esz, p, (d.size - idx) * d.esz)
    d.size += 1
    memset(p, 0, d.esz)
    (<int64_t *>p)[0] = bid
    if idx == 0:
        d.first = bid
    created[0] = True
    return p


cdef list deq_dump(Deq *d, int kind):
    """The Python rings' bucket lists: kind 0 ``[bid, max]``, 1 ``[bid, c, s, q]``,
    2 ``[bid, c, cx, s, q]``, 3 ``[bid, count, positives]``."""
    cdef list out = []
    cdef Py_ssize_t i
    cdef NBucket *b
    cdef CBucket *c
    for i in range(d.size):
        if kind == 3:
            c = <CBucket *>deq_at(d, i)
            out.append([c.bid, c.c1, c.c2])
            continue
        b = <NBucket *>deq_at(d, i)
        if kind == 0:
            out.append([b.bid, n_py(b.s)])
        elif kind == 1:
            out.append([b.bid, b.c1, n_py(b.s), n_py(b.q)])
        else:
            out.append([b.bid, b.c1, b.c2, n_py(b.s), n_py(b.q)])
    return out


cdef int deq_load(Deq *d, object rows, int kind) except -1:
    cdef NBucket *b
    cdef CBucket *c
    d.start = 0
    d.size = 0
    for row in rows:
        if kind == 3:
            c = <CBucket *>deq_push(d, row[0])
            c.c1, c.c2 = row[1], row[2]
            continue
        b = <NBucket *>deq_push(d, row[0])
        if kind == 0:
            b.s = n_from(row[1])
        elif kind == 1:  # a SumRing: every observation carries a value
            b.c1 = b.c2 = row[1]
            b.s, b.q = n_from(row[2]), n_from(row[3])
        else:
            b.c1, b.c2 = row[1], row[2]
            b.s, b.q = n_from(row[3]), n_from(row[4])
    return 0


cdef inline NBucket *deq_bucket(Deq *d, int64_t bid) except NULL:
    """The bucket for an accepted ``bid``: the back one, a new back one, or a late one."""
    cdef bint created
    if d.size and deq_last(d) == bid:
        return <NBucket *>deq_at(d, d.size - 1)
    if not d.size or deq_last(d) < bid:
        return <NBucket *>deq_push(d, bid)
    return <NBucket *>deq_late(d, bid, &created)


# --- rings ----------------------------------------------------------------------------------------

cdef class _Window:
    """What every ring shares: the bucket width, the window in buckets, the watermark (``head``,
    the newest bucket seen) and the bucket id of the last timestamp seen."""

    cdef readonly double width
    cdef readonly int64_t n
    cdef public int64_t head
    cdef double _mts
    cdef int64_t _mbid

    def __init__(self, double width, int64_t n):
        self.width = width
        self.n = n
        self.head = NEG_INF_BUCKET
        self._mts = NAN


cdef inline int64_t _bid(_Window w, double ts) noexcept:
    """``int(ts // width)``, remembered for the last ``ts`` (advance and add of one event)."""
    if ts != w._mts:
        w._mts = ts
        w._mbid = _bucket(ts, w.width)
    return w._mbid


cdef class MultiRing(_Window):
    """One ring feeding several aggregates: all-events count, and count, sum and sum of squares of
    the events that carry a value. ``add(ts, None)`` counts without a value."""

    cdef public int64_t count
    cdef public int64_t nx
    cdef Num _total, _sq
    cdef Deq d

    def __cinit__(self, *args, **kwargs):
        deq_init(&self.d, sizeof(NBucket))

    def __dealloc__(self):
        PyMem_Free(self.d.a)

    def __init__(self, double width, int64_t n):
        _Window.__init__(self, width, n)
        self.count = 0
        self.nx = 0
        self._total = n_int(0)
        self._sq = n_int(0)

    @property
    def total(self):
        return n_py(self._total)

    @property
    def sq(self):
        return n_py(self._sq)

    cdef inline void _expire(self) noexcept:
        cdef int64_t low = self.head - self.n
        cdef NBucket *b
        if self.d.size and deq_first(&self.d) <= low:
            while self.d.size and deq_first(&self.d) <= low:
                b = <NBucket *>deq_at(&self.d, 0)
                self.count -= b.c1
                self.nx -= b.c2
                self._total = n_sub(self._total, b.s)
                self._sq = n_sub(self._sq, b.q)
                deq_pop(&self.d)
            if not self.d.size:
                self.count = 0
                self.nx = 0
                self._total = n_int(0)
                self._sq = n_int(0)

    cpdef advance(self, double ts):
        cdef int64_t bid = _bid(self, ts)
        if bid > self.head:
            self.head = bid
        self._expire()

    cdef bint add_num(self, double ts, Num x, bint has_x) except -1:
        cdef int64_t bid = _bid(self, ts)
        if bid > self.head:
            self.head = bid
        self._expire()
        if bid <= self.head - self.n:
            return False
        cdef NBucket *b = deq_bucket(&self.d, bid)
        cdef Num xx
        b.c1 += 1
        self.count += 1
        if has_x:
            xx = n_sq(x)
            b.c2 += 1
            b.s = n_add(b.s, x)
            b.q = n_add(b.q, xx)
            self.nx += 1
            self._total = n_add(self._total, x)
            self._sq = n_add(self._sq, xx)
        return True

    cpdef bint add(self, double ts, object x=1) except -1:
        if x is None:
            return self.add_num(ts, n_int(0), False)
        return self.add_num(ts, n_from(x), True)

    def dump(self):
        return [self.head, self.count, self.nx, n_py(self._total), n_py(self._sq), deq_dump(&self.d, 2)]

    def load(self, data):
        self.head, self.count, self.nx = data[0], data[1], data[2]
        self._total, self._sq = n_from(data[3]), n_from(data[4])
        deq_load(&self.d, data[5], 2)


cdef class SumRing(MultiRing):
    """Count, sum and sum of squares over a sliding window (ints stay exact): a ``MultiRing``
    whose every observation carries a value, with the Python ``SumRing``'s dump layout."""

    cpdef bint add(self, double ts, object x=1) except -1:
        """Add one observation at ``ts``; ``False`` if it is older than the ring."""
        return self.add_num(ts, n_from(x), True)

    def dump(self):
        return [self.head, self.count, n_py(self._total), n_py(self._sq), deq_dump(&self.d, 1)]

    def load(self, data):
        self.head, self.count, self.nx = data[0], data[1], data[1]
        self._total, self._sq = n_from(data[2]), n_from(data[3])
        deq_load(&self.d, data[4], 1)


cdef class MaxRing(_Window):
    """Maximum over a sliding window; the cached max is recomputed only when its bucket expires."""

    cdef Num _best
    cdef bint has_best
    cdef Deq d

    def __cinit__(self, *args, **kwargs):
        deq_init(&self.d, sizeof(NBucket))

    def __dealloc__(self):
        PyMem_Free(self.d.a)

    def __init__(self, double width, int64_t n):
        _Window.__init__(self, width, n)
        self.has_best = False

    @property
    def best(self):
        return n_py(self._best) if self.has_best else None

    cdef int _expire(self) except -1:
        cdef int64_t low = self.head - self.n
        cdef bint dropped = False
        cdef Py_ssize_t i
        cdef NBucket *b
        while self.d.size and deq_first(&self.d) <= low:
            b = <NBucket *>deq_at(&self.d, 0)
            if self.has_best and n_eq(b.s, self._best):
                dropped = True
            deq_pop(&self.d)
        if dropped or not self.d.size:
            self.has_best = False
            for i in range(self.d.size):  # ``max(...)``: the first of equal maxima wins
                b = <NBucket *>deq_at(&self.d, i)
                if not self.has_best or n_gt(b.s, self._best):
                    self._best = b.s
                    self.has_best = True
        return 0

    cpdef advance(self, double ts):
        cdef int64_t bid = _bid(self, ts)
        if bid > self.head:
            self.head = bid
        self._expire()

    cdef bint add_num(self, double ts, Num x) except -1:
        cdef int64_t bid = _bid(self, ts)
        cdef NBucket *b
        cdef bint created
        if bid > self.head:
            self.head = bid
        self._expire()
        if bid <= self.head - self.n:
            return False
        if self.d.size and deq_last(&self.d) == bid:
            b = <NBucket *>deq_at(&self.d, self.d.size - 1)
            if n_gt(x, b.s):
                b.s = x
        elif not self.d.size or deq_last(&self.d) < bid:
            b = <NBucket *>deq_push(&self.d, bid)
            b.s = x
        else:
            b = <NBucket *>deq_late(&self.d, bid, &created)
            if created or n_gt(x, b.s):  # new bucket, or ``max(old, x)``
                b.s = x
        if not self.has_best or n_gt(x, self._best):
            self._best = x
            self.has_best = True
        return True

    cpdef bint add(self, double ts, object x) except -1:
        return self.add_num(ts, n_from(x))

    def dump(self):
        return [self.head, self.best, deq_dump(&self.d, 0)]

    def load(self, data):
        self.head = data[0]
        self.has_best = data[1] is not None
        if self.has_best:
            self._best = n_from(data[1])
        deq_load(&self.d, data[2], 0)


cdef class DelayedRing(_Window):
    """Counts and positives over a window that ends ``delay`` buckets before the watermark."""

    cdef readonly int64_t delay
    cdef public int64_t count
    cdef public int64_t positives
    cdef Deq pending
    cdef Deq matured

    def __cinit__(self, *args, **kwargs):
        deq_init(&self.pending, sizeof(CBucket))
        deq_init(&self.matured, sizeof(CBucket))

    def __dealloc__(self):
        PyMem_Free(self.pending.a)
        PyMem_Free(self.matured.a)

    def __init__(self, double width, int64_t n, int64_t delay):
        _Window.__init__(self, width, n)
        self.delay = delay
        self.count = 0
        self.positives = 0

    cpdef advance(self, double ts):
        cdef int64_t bid = _bid(self, ts)
        cdef CBucket *p
        cdef CBucket *m
        if bid > self.head:
            self.head = bid
        cdef int64_t ripe = self.head - self.delay
        while self.pending.size and deq_first(&self.pending) <= ripe:
            p = <CBucket *>deq_at(&self.pending, 0)
            m = <CBucket *>deq_push(&self.matured, p.bid)
            m.c1 = p.c1
            m.c2 = p.c2
            self.count += p.c1
            self.positives += p.c2
            deq_pop(&self.pending)
        cdef int64_t low = ripe - self.n
        while self.matured.size and deq_first(&self.matured) <= low:
            m = <CBucket *>deq_at(&self.matured, 0)
            self.count -= m.c1
            self.positives -= m.c2
            deq_pop(&self.matured)

    cpdef bint add(self, double ts, int64_t positive) except -1:
        cdef int64_t bid = _bid(self, ts)
        cdef CBucket *b
        cdef bint created
        self.advance(ts)
        if bid <= self.head - self.delay - self.n:
            return False
        if bid <= self.head - self.delay:
            # Rare: a late event whose bucket has already matured.
            b = <CBucket *>deq_late(&self.matured, bid, &created)
            b.c1 += 1
            b.c2 += positive
            self.count += 1
            self.positives += positive
            return True
        if self.pending.size and deq_last(&self.pending) == bid:
            b = <CBucket *>deq_at(&self.pending, self.pending.size - 1)
        elif not self.pending.size or deq_last(&self.pending) < bid:
            b = <CBucket *>deq_push(&self.pending, bid)
        else:
            b = <CBucket *>deq_late(&self.pending, bid, &created)
        b.c1 += 1
        b.c2 += positive
        return True

    def dump(self):
        return [self.head, self.count, self.positives, deq_dump(&self.pending, 3), deq_dump(&self.matured, 3)]

    def load(self, data):
        self.head, self.count, self.positives = data[0], data[1], data[2]
        deq_load(&self.pending, data[3], 3)
        deq_load(&self.matured, data[4], 3)


cdef class DistinctRing(_Window):
    """Number of distinct values over a sliding window (per-bucket value counts). The front
    bucket's id is cached in C, so an event that expires nothing costs no Python operation."""

    cdef public dict counts
    cdef object _buckets  # deque of [bid, {value: count}]
    cdef int64_t first  # id of the front bucket; INT64_MAX when empty

    def __init__(self, double width, int64_t n):
        _Window.__init__(self, width, n)
        self.counts = {}
        self._buckets = deque()
        self.first = INT64_MAX

    @property
    def buckets(self):
        return self._buckets

    cdef inline void _refirst(self):
        self.first = self._buckets[0][0] if self._buckets else INT64_MAX

    cpdef advance(self, double ts):
        cdef int64_t bid = _bid(self, ts)
        if bid > self.head:
            self.head = bid
        cdef int64_t low = self.head - self.n
        if self.first > low:
            return
        buckets, counts = self._buckets, self.counts
        while buckets and buckets[0][0] <= low:
            for value, c in buckets.popleft()[1].items():
                left = counts[value] - c
                if left:
                    counts[value] = left
                else:
                    del counts[value]
        self._refirst()

    @cython.wraparound(True)
    cpdef bint add(self, double ts, object value) except -1:
        cdef int64_t bid = _bid(self, ts)
        self.advance(ts)
        if bid <= self.head - self.n:
            return False
        buckets = self._buckets
        if buckets and buckets[-1][0] == bid:
            bucket = buckets[-1][1]
        elif not buckets or buckets[-1][0] < bid:
            bucket = {}
            buckets.append([bid, bucket])
        else:
            idx = len(buckets) - 1
            while idx >= 0 and buckets[idx][0] > bid:
                idx -= 1
            if idx >= 0 and buckets[idx][0] == bid:
                bucket = buckets[idx][1]
            else:
                bucket = {}
                buckets.insert(idx + 1, [bid, bucket])
        bucket[value] = bucket.get(value, 0) + 1
        self.counts[value] = self.counts.get(value, 0) + 1
        self._refirst()
        return True

    def dump(self):
        return [self.head, [[b[0], b[1]] for b in self._buckets]]

    def load(self, data):
        self.head = data[0]
        self._buckets = deque([b[0], dict(b[1])] for b in data[1])
        counts = {}
        for _, bucket in self._buckets:
            for value, c in bucket.items():
                counts[value] = counts.get(value, 0) + c
        self.counts = counts
        self._refirst()


cdef class ChangeState:
    """The last value seen and a count ring of changes (``indicators._ChangeState``)."""

    cdef public object last
    cdef public SumRing ring

    def __init__(self, double width, int64_t n):
        self.last = None
        self.ring = SumRing(width, n)

    def dump(self):
        return [self.last, self.ring.dump()]

    def load(self, data):
        self.last = data[0]
        self.ring.load(data[1])


cdef class Last:
    """A small mutable record for kinds that remember the previous observation."""

    cdef public object a, b, c, d

    def __init__(self):
        self.a = self.b = self.c = self.d = None

    def dump(self):
        return [self.a, self.b, self.c, self.d]

    def load(self, data):
        self.a, self.b, self.c, self.d = data


# --- reading events -------------------------------------------------------------------------------
# ``Event`` is a slots dataclass: its fields are read straight from the slots (their offsets come
# from the member descriptors at import) instead of through ``getattr`` (~200 instructions each,
# ~25 reads per event). Anything else (a subclass, another class) goes through ``getattr``.

from xindai.risk.events import Event as _Event

cdef enum:
    E_EVENT_ID = 0
    E_SUBJECT = 1
    E_TYPE = 2
    E_OCCURRED_AT = 3
    E_TS = 4
    E_DEVICE_ID = 5
    E_IP = 6
    E_LAT = 7
    E_LON = 8
    E_AMOUNT_FEN = 9
    E_TERMINAL_ID = 10
    E_ATTRIBUTES = 11
    E_LABEL = 12

cdef tuple _EV_NAMES = ('event_id', 'subject', 'type', 'occurred_at', 'ts', 'device_id', 'ip', 'lat', 'lon', 'amount_fen', 'terminal_id', 'attributes', 'label')
cdef Py_ssize_t[13] _EV_OFF
cdef bint _EV_FAST = False


cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef *d_member
    ctypedef struct PyObject
    PyObject *PyList_GET_ITEM(object lst, Py_ssize_t i)
    Py_ssize_t PyList_GET_SIZE(object lst)


cdef int _init_event_offsets() except -1:
    global _EV_FAST
    cdef object descr
    for i, name in enumerate(_EV_NAMES):
        descr = _Event.__dict__.get(name)
        if descr is None or type(descr).__name__ != "member_descriptor":
            return 0  # not plain slots: keep ``getattr``
        _EV_OFF[i] = (<PyMemberDescrObject *>descr).d_member.offset
    _EV_FAST = True
    return 0


_init_event_offsets()


cdef inline object _get(object ev, int i):
    cdef PyObject *p
    if _EV_FAST and type(ev) is _Event:
        p = (<PyObject **>((<char *><PyObject *>ev) + _EV_OFF[i]))[0]
        if p is not NULL:
            return <object>p
    return getattr(ev, _EV_NAMES[i])


def reads_event_slots():
    """Whether ``Event`` fields are read from the slots (else through ``getattr``)."""
    return _EV_FAST


def event_field(ev, str name):
    """A field read the kernel's way (for the equality test)."""
    return _get(ev, _EV_NAMES.index(name))


# --- operations -----------------------------------------------------------------------------------

cdef inline void _prefetch_back(Deq *d) noexcept:
    if d.size:
        xd_prefetch(d.a + (d.start + d.size - 1) * d.esz)


cdef class Op:
    """One slot of a key's state: creates it on the first event it counts, then updates it (an
    event it counts) or reads it (any other event), writing its indicator value(s)."""

    cdef Py_ssize_t idx
    cdef bint counts
    cdef dict empties
    cdef tuple empty_items
    cdef object where_attr, where_value
    cdef object field_attr  # None: the amount in fen; else a numeric attribute's name

    def __init__(self, Py_ssize_t idx, bint counts, dict empties, where_attr=None, where_value=None,
                 field_attr=None):
        self.idx = idx
        self.counts = counts
        self.empties = empties
        self.empty_items = tuple(empties.items())
        self.where_attr = where_attr
        self.where_value = where_value
        self.field_attr = field_attr

    cdef object new_state(self):
        raise NotImplementedError

    cdef void prefetch(self, list slots) noexcept:
        """Ask for the memory this operation's state will touch (its newest bucket)."""
        pass

    cdef int update(self, object st, object ev, double ts, dict values) except -1:
        raise NotImplementedError

    cdef int read(self, object st, object ev, double ts, dict values) except -1:
        raise NotImplementedError

    cdef inline object number(self, object ev):
        """The numeric field: amount in fen, or a numeric (non-bool) attribute, else None."""
        if self.field_attr is None:
            return _get(ev, E_AMOUNT_FEN)
        v = _get(ev, E_ATTRIBUTES).get(self.field_attr)
        if v is None or type(v) is bool or not isinstance(v, (int, float)):
            return None
        return v

    cdef int apply(self, list slots, object ev, double ts, dict values) except -1:
        st = slots[self.idx]
        if st is None:
            if not self.counts:
                for name, value in self.empty_items:
                    values[name] = value
                return 0
            st = self.new_state()
            slots[self.idx] = st
        if not self.counts:
            return self.read(st, ev, ts, values)
        if self.where_attr is not None and not (_get(ev, E_ATTRIBUTES).get(self.where_attr) == self.where_value):
            return self.read(st, ev, ts, values)
        return self.update(st, ev, ts, values)


cdef inline double _history(MultiRing st, Num xn, bint zscore) except? -1.0:
    """The value against the window's history before it (``indicators._history_fn``)."""
    cdef int64_t count = st.nx
    cdef double mean, var, x = n_d(xn)
    if count == 0:
        return NAN
    mean = n_div(st._total, count)
    if not zscore:
        return x / mean if mean else NAN
    if count < 2:
        return NAN
    var = n_div(st._sq, count) - mean * mean
    if not (var > 0.0):
        var = 0.0
    return (x - mean) / sqrt(var) if var > 0 else 0.0


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

    cdef void prefetch(self, list slots) noexcept:
        cdef PyObject *item = PyList_GET_ITEM(slots, self.idx)
        if item != <PyObject *>None and type(<object>item) is MultiRing:
            _prefetch_back(&(<MultiRing>item).d)

    cdef object new_state(self):
        return MultiRing(self.width, self.n)

    cdef inline int _pre(self, MultiRing st, Num x, bint has_x, dict values) except -1:
        for name, zscore in self.pre:
            values[name] = _history(st, x, zscore) if has_x else NAN
        return 0

    cdef inline int _post(self, MultiRing st, dict values) except -1:
        cdef int what
        for name, what in self.post:
            if what == 0:
                values[name] = <double>st.count
            elif what == 1:
                values[name] = n_d(st._total) / self.scale
            else:
                values[name] = n_div(st._total, st.nx) / self.scale if st.nx else 0.0
        return 0

    cdef int update(self, object state, object ev, double ts, dict values) except -1:
        cdef MultiRing st = <MultiRing?>state
        x = self.number(ev) if self.numeric else None
        cdef bint has_x = x is not None
        cdef Num xn = n_from(x) if has_x else n_int(0)
        if self.pre:
            st.advance(ts)
            self._pre(st, xn, has_x, values)
        st.add_num(ts, xn, has_x)
        return self._post(st, values)

    cdef int read(self, object state, object ev, double ts, dict values) except -1:
        cdef MultiRing st = <MultiRing?>state
        x = self.number(ev) if self.numeric else None
        cdef bint has_x = x is not None
        cdef Num xn = n_from(x) if has_x else n_int(0)
        st.advance(ts)
        self._pre(st, xn, has_x, values)
        return self._post(st, values)


cdef class DelayedOp(Op):
    """``delayed_count`` / ``delayed_rate`` (one or several sharing a ``DelayedRing``)."""

    cdef double width
    cdef int64_t n, delay
    cdef tuple outs  # (name, rate)

    def configure(self, double width, int64_t n, int64_t delay, tuple outs):
        self.width, self.n, self.delay, self.outs = width, n, delay, outs
        return self

    cdef void prefetch(self, list slots) noexcept:
        cdef PyObject *item = PyList_GET_ITEM(slots, self.idx)
        if item != <PyObject *>None and type(<object>item) is DelayedRing:
            _prefetch_back(&(<DelayedRing>item).pending)

    cdef object new_state(self):
        return DelayedRing(self.width, self.n, self.delay)

    cdef int read(self, object state, object ev, double ts, dict values) except -1:
        cdef DelayedRing st = <DelayedRing?>state
        st.advance(ts)
        cdef int64_t count = st.count
        for name, rate in self.outs:
            if rate:
                values[name] = <double>st.positives / <double>count if count else 0.0
            else:
                values[name] = <double>count
        return 0

    cdef int update(self, object state, object ev, double ts, dict values) except -1:
        cdef DelayedRing st = <DelayedRing?>state
        st.add(ts, 1 if _get(ev, E_LABEL) else 0)
        return self.read(state, ev, ts, values)


cdef class MaxOp(Op):
    cdef double width, scale
    cdef int64_t n
    cdef object name

    def configure(self, name, double width, int64_t n, double scale):
        self.name, self.width, self.n, self.scale = name, width, n, scale
        return self

    cdef void prefetch(self, list slots) noexcept:
        cdef PyObject *item = PyList_GET_ITEM(slots, self.idx)
        if item != <PyObject *>None and type(<object>item) is MaxRing:
            _prefetch_back(&(<MaxRing>item).d)

    cdef object new_state(self):
        return MaxRing(self.width, self.n)

    cdef int read(self, object state, object ev, double ts, dict values) except -1:
        cdef MaxRing st = <MaxRing?>state
        st.advance(ts)
        values[self.name] = n_d(st._best) / self.scale if st.has_best else NAN
        return 0

    cdef int update(self, object state, object ev, double ts, dict values) except -1:
        cdef MaxRing st = <MaxRing?>state
        x = self.number(ev)
        if x is None:
            st.advance(ts)
        else:
            st.add_num(ts, n_from(x))
        values[self.name] = n_d(st._best) / self.scale if st.has_best else NAN
        return 0


cdef class NightShareOp(Op):
    cdef double width
    cdef int64_t n
    cdef object name

    def configure(self, name, double width, int64_t n):
        self.name, self.width, self.n = name, width, n
        return self

    cdef void prefetch(self, list slots) noexcept:
        cdef PyObject *item = PyList_GET_ITEM(slots, self.idx)
        if item != <PyObject *>None and type(<object>item) is SumRing:
            _prefetch_back(&(<SumRing>item).d)

    cdef object new_state(self):
        return SumRing(self.width, self.n)

    cdef inline int _value(self, SumRing st, dict values) except -1:
        values[self.name] = n_div(st._total, st.count) if st.count else 0.0
        return 0

    cdef int read(self, object state, object ev, double ts, dict values) except -1:
        cdef SumRing st = <SumRing?>state
        st.advance(ts)
        return self._value(st, values)

    cdef int update(self, object state, object ev, double ts, dict values) except -1:
        cdef SumRing st = <SumRing?>state
        st.add_num(ts, n_int(1 if local_hour(ts) < 6 else 0), True)
        return self._value(st, values)


cdef class SinceLastOp(Op):
    cdef object name

    def configure(self, name):
        self.name = name
        return self

    cdef object new_state(self):
        return Last()

    cdef int read(self, object state, object ev, double ts, dict values) except -1:
        cdef Last st = <Last?>state
        cdef double gap
        if st.a is None:
            values[self.name] = NAN
        else:
            gap = <double>ts - <double>st.a
            values[self.name] = gap if gap > 0.0 else 0.0
        return 0

    cdef int update(self, object state, object ev, double ts, dict values) except -1:
        cdef Last st = <Last?>state
        last = st.a
        cdef double gap
        if last is None:
            values[self.name] = NAN
        else:
            gap = <double>ts - <double>last
            values[self.name] = gap if gap > 0.0 else 0.0
        if last is None or ts > <double>last:
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

    cdef int update(self, object st, object ev, double ts, dict values) except -1:
        if self.kind == 3:
            x = self.number(ev)
            values[self.name] = NAN if x is None else <double>x / self.scale
            return 0
        if self.kind == 0:
            values[self.name] = <double>local_hour(ts)
        elif self.kind == 1:
            values[self.name] = 1.0 if local_hour(ts) < 6 else 0.0
        else:
            values[self.name] = 1.0 if local_weekday(ts) >= 5 else 0.0
        return 0

    cdef int apply(self, list slots, object ev, double ts, dict values) except -1:
        return self.update(None, ev, ts, values)


cdef class _CategoricalOp(Op):
    """A windowed indicator over a categorical field of the event (device, IP, subject, terminal)."""

    cdef object name, attr
    cdef int attr_i
    cdef double width
    cdef int64_t n

    def configure(self, name, attr, double width, int64_t n):
        self.name, self.attr, self.width, self.n = name, attr, width, n
        self.attr_i = _EV_NAMES.index(attr)
        return self


cdef class DistinctOp(_CategoricalOp):
    cdef object new_state(self):
        return DistinctRing(self.width, self.n)

    cdef int read(self, object state, object ev, double ts, dict values) except -1:
        cdef DistinctRing st = <DistinctRing?>state
        st.advance(ts)
        values[self.name] = <double>len(st.counts)
        return 0

    cdef int update(self, object state, object ev, double ts, dict values) except -1:
        cdef DistinctRing st = <DistinctRing?>state
        value = _get(ev, self.attr_i)
        if value is None:
            st.advance(ts)
        else:
            st.add(ts, value)
        values[self.name] = <double>len(st.counts)
        return 0


cdef class ChangeOp(_CategoricalOp):
    cdef object new_state(self):
        return ChangeState(self.width, self.n)

    cdef int read(self, object state, object ev, double ts, dict values) except -1:
        cdef ChangeState st = <ChangeState?>state
        st.ring.advance(ts)
        values[self.name] = <double>st.ring.count
        return 0

    cdef int update(self, object state, object ev, double ts, dict values) except -1:
        cdef ChangeState st = <ChangeState?>state
        value = _get(ev, self.attr_i)
        if value is not None and value != st.last:
            if st.last is not None:
                st.ring.add_num(ts, n_int(1), True)
            st.last = value
        st.ring.advance(ts)
        values[self.name] = <double>st.ring.count
        return 0


cdef double _DEG_TO_RAD = 3.141592653589793 / 180.0  # math.radians' factor (Py_MATH_PI / 180)
cdef double _EARTH_RADIUS_KM = 6371.0088


cpdef double haversine_km(double lat1, double lon1, double lat2, double lon2):
    """``xindai.risk.geo.haversine_km`` with the same libm calls in the same order."""
    cdef double p1 = lat1 * _DEG_TO_RAD, p2 = lat2 * _DEG_TO_RAD
    cdef double dp = p2 - p1
    cdef double dl = (lon2 - lon1) * _DEG_TO_RAD
    cdef double a = xd_pow(sin(dp / 2), 2.0) + cos(p1) * cos(p2) * xd_pow(sin(dl / 2), 2.0)
    cdef double root = sqrt(a)
    return 2 * _EARTH_RADIUS_KM * asin(root if root < 1.0 else 1.0)


cdef class GpsOp(Op):
    """``gps_speed`` (km/h) or ``gps_jump`` (km) between consecutive GPS points."""

    cdef object name
    cdef bint speed

    def configure(self, name, bint speed):
        self.name, self.speed = name, speed
        return self

    cdef object new_state(self):
        return Last()

    cdef int read(self, object state, object ev, double ts, dict values) except -1:
        cdef Last st = <Last?>state
        values[self.name] = NAN if st.d is None else <double>st.d
        return 0

    cdef int update(self, object state, object ev, double ts, dict values) except -1:
        cdef Last st = <Last?>state
        cdef double km, hours, gap
        lat, lon = _get(ev, E_LAT), _get(ev, E_LON)
        if lat is None or lon is None:
            values[self.name] = NAN if st.d is None else <double>st.d
            return 0
        if st.a is not None and ts >= <double>st.a:
            km = haversine_km(st.b, st.c, lat, lon)
            # A hop faster than one second is timed as one second: the clock resolution.
            gap = <double>ts - <double>st.a
            hours = (gap if not (1.0 > gap) else 1.0) / 3600.0
            st.d = km / hours if self.speed else km
        if st.a is None or ts >= <double>st.a:
            st.a, st.b, st.c = ts, lat, lon
        values[self.name] = NAN if st.d is None else <double>st.d
        return 0


cdef class RegionOp(Op):
    """``region_mismatch``: the last GPS region differs from the last IP region."""

    cdef object name

    def configure(self, name):
        self.name = name
        return self

    cdef object new_state(self):
        return Last()

    cdef int read(self, object state, object ev, double ts, dict values) except -1:
        cdef Last st = <Last?>state
        if st.a is None or st.b is None:
            values[self.name] = NAN
        else:
            values[self.name] = 1.0 if st.a != st.b else 0.0
        return 0

    cdef int update(self, object state, object ev, double ts, dict values) except -1:
        cdef Last st = <Last?>state
        attrs = _get(ev, E_ATTRIBUTES)
        if attrs:
            gps_region = attrs.get("gps_region")
            ip_region = attrs.get("ip_region")
            if gps_region is not None:
                st.a = str(gps_region)
            if ip_region is not None:
                st.b = str(ip_region)
        return self.read(state, ev, ts, values)


cdef class PyOp(Op):
    """Any other indicator, through its Python ``update``/``read`` (which carry their own filter)."""

    cdef object factory, fn, name
    cdef bint fused

    def configure(self, name, factory, fn, bint fused):
        self.name, self.factory, self.fn, self.fused = name, factory, fn, fused
        return self

    cdef object new_state(self):
        return self.factory()

    cdef int apply(self, list slots, object ev, double ts, dict values) except -1:
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
    cdef int attr_i
    cdef object kind
    cdef dict table
    cdef Py_ssize_t nslots
    cdef dict nans
    cdef list ops

    def __init__(self, kind, attr, dict table, Py_ssize_t nslots, dict nans, list ops):
        self.kind, self.attr, self.table, self.nslots = kind, attr, table, nslots
        self.attr_i = _EV_NAMES.index(attr) if attr is not None else -1
        self.nans, self.ops = nans, ops


cdef class Plan:
    """Every indicator of one event type, in the generated Python plan's order."""

    cdef list groups

    def __init__(self, list groups):
        self.groups = groups

    def __call__(self, ev, dict values, dirty):
        self.run(ev, values, dirty)

    cdef int run(self, ev, dict values, dirty) except -1:
        """Two passes: find (or create) every key's slots and prefetch their states, so the
        cache misses of the ~20 states an event touches overlap instead of queueing; then run
        the operations group by group, in order."""
        cdef Group g
        cdef Op op
        cdef list slots
        cdef double ts = _get(ev, E_TS)
        cdef Py_ssize_t gi, i, ng = len(self.groups)
        cdef PyObject *found[8]
        cdef PyObject *item
        if ng > 8:
            raise ValueError("at most 8 key kinds")
        for gi in range(ng):
            g = <Group>self.groups[gi]
            found[gi] = NULL
            if g.attr is None:
                continue
            key = _get(ev, g.attr_i)
            if key is None:
                continue
            slots = g.table.get(key)
            if slots is None:
                slots = [None] * g.nslots
                g.table[key] = slots
            if dirty is not None:
                dirty.add((g.kind, key))
            found[gi] = <PyObject *>slots
            for i in range(PyList_GET_SIZE(slots)):
                item = PyList_GET_ITEM(slots, i)
                if item != <PyObject *>None:
                    xd_prefetch(item)
                    xd_prefetch((<char *>item) + 64)
                    xd_prefetch((<char *>item) + 128)
        for gi in range(ng):  # the states' newest buckets (their objects are on the way)
            if found[gi] is not NULL:
                for op in (<Group>self.groups[gi]).ops:
                    op.prefetch(<list>found[gi])
        for gi in range(ng):
            g = <Group>self.groups[gi]
            if g.attr is None:
                for op in g.ops:
                    op.apply(None, ev, ts, values)
            elif found[gi] is NULL:
                values.update(g.nans)
            else:
                slots = <list>found[gi]
                for op in g.ops:
                    op.apply(slots, ev, ts, values)
        return 0


# --- the decision path ----------------------------------------------------------------------------
# ``RiskEngine.admit``, ``indicators`` and ``decide`` compiled, reading and writing the engine's own
# attributes (so checkpoints, lists, policies and stores stay the engine's). The Python methods are
# the reference: ``tests/unit/risk/test_native.py`` replays streams through both.

from cpython.datetime cimport (
    PyDateTime_CheckExact,
    datetime_day,
    datetime_hour,
    datetime_microsecond,
    datetime_minute,
    datetime_month,
    datetime_second,
    datetime_tzinfo,
    datetime_year,
    import_datetime,
)
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.string cimport memcpy

from datetime import UTC as _UTC

from xindai.risk.decisions import Decision
from xindai.risk.events import EventType

import_datetime()
from xindai.risk.level import LevelState
from xindai.risk.rules import Action

cdef object _ALLOW = Action.ALLOW
cdef object _REVIEW = Action.REVIEW
cdef object _BLOCK = Action.BLOCK
cdef object _REPAYMENT = EventType.REPAYMENT_MADE
cdef object _META = ("meta", "")
cdef object _LEVEL = "level"
cdef object _object_new = object.__new__


cdef extern from "Python.h":
    void Py_INCREF(object o)


cdef Py_ssize_t[18] _DECISION_OFFSETS


cdef int _init_decision_offsets() except -1:
    """Byte offsets of ``Decision``'s slots (its fields, in order), from the member descriptors."""
    fields = Decision.__slots__
    if len(fields) != 18:
        raise RuntimeError("Decision changed: update the kernel's decision constructor")
    cdef object descr
    for i, name in enumerate(fields):
        descr = Decision.__dict__[name]
        if type(descr).__name__ != "member_descriptor":
            raise RuntimeError(f"Decision.{name} is not a slot")
        _DECISION_OFFSETS[i] = (<PyMemberDescrObject *>descr).d_member.offset
    return 0


_init_decision_offsets()


cdef inline void _put(object obj, int i, object value):
    Py_INCREF(value)
    (<PyObject **>((<char *><PyObject *>obj) + _DECISION_OFFSETS[i]))[0] = <PyObject *>value


cdef object _decision(tuple fields):
    """A ``Decision`` with its slots filled directly (it is frozen, and new: no old values)."""
    d = _object_new(Decision)
    cdef int i
    for i in range(18):
        _put(d, i, fields[i])
    return d


def new_decision_fast(*fields):
    """``Decision(*fields)`` through the kernel's constructor (for the equality test)."""
    return _decision(fields)


cdef inline void _digits(char *out, int value, int width) noexcept:
    cdef int i
    for i in range(width - 1, -1, -1):
        out[i] = <char>(48 + value % 10)
        value //= 10


cdef object _isoformat(object moment):
    """``moment.isoformat()`` for the engine's UTC instants, formatted in C (datetime's own
    ``isoformat`` parses keyword arguments and goes through printf: ~3 µs per event)."""
    if not PyDateTime_CheckExact(moment) or datetime_tzinfo(moment) is not _UTC:
        return moment.isoformat()
    cdef char buf[40]
    cdef int us = datetime_microsecond(moment)
    cdef int n = 19
    _digits(buf, datetime_year(moment), 4)
    buf[4] = 45  # '-'
    _digits(buf + 5, datetime_month(moment), 2)
    buf[7] = 45
    _digits(buf + 8, datetime_day(moment), 2)
    buf[10] = 84  # 'T'
    _digits(buf + 11, datetime_hour(moment), 2)
    buf[13] = 58  # ':'
    _digits(buf + 14, datetime_minute(moment), 2)
    buf[16] = 58
    _digits(buf + 17, datetime_second(moment), 2)
    if us:
        buf[19] = 46  # '.'
        _digits(buf + 20, us, 6)
        n = 26
    memcpy(buf + n, b"+00:00", 6)
    return PyUnicode_DecodeASCII(buf, n + 6, NULL)


def isoformat(moment):
    """The kernel's ``isoformat`` (for the equality test)."""
    return _isoformat(moment)


cdef inline int _level_of(tuple thresholds, double score) noexcept:
    cdef int level = 1
    for bound in thresholds:
        if score >= <double>bound:
            level += 1
    return level


cpdef bint admit(engine, event) except -1:
    """``RiskEngine.admit``: dedup and lateness gate; records the id."""
    event_id = _get(event, E_EVENT_ID)
    cdef dict seen = engine.seen
    if event_id in seen:
        engine.stats.duplicates += 1
        return False
    ts_obj = _get(event, E_TS)
    cdef double ts = ts_obj
    cdef double lateness = engine.policy.lateness_s
    cdef double watermark = engine.watermark
    if ts < watermark - lateness:
        engine.stats.too_late += 1
        engine._dead(event_id, "occurred_at", "later than the allowed lateness", "late")
        return False
    seen[event_id] = ts_obj
    order = engine._seen_order
    order.append((ts_obj, event_id))
    cdef double cutoff
    if ts > watermark:
        engine.watermark = ts_obj
        cutoff = ts - lateness
        # Arrival order approximates time order; stale ids leave from the front.
        while order and order[0][0] < cutoff:
            seen.pop(order.popleft()[1], None)
    if engine.track_dirty:
        engine.dirty.add(_META)
    return True


cpdef object decide(engine, event, dict values, double start, model_score=None, anomaly_score=None):
    """``RiskEngine.decide``: model, rules, level and the decision record."""
    policy = engine.policy
    if model_score is None and engine.model is not None:
        model_score = engine.model.score(values)
    if anomaly_score is None and engine.anomaly is not None:
        anomaly_score = engine.anomaly.score(values)
    subject = _get(event, E_SUBJECT)
    ts_obj = _get(event, E_TS)
    cdef double ts = ts_obj
    cdef dict levels = engine.levels
    state = levels.get(subject)
    if state is None:
        state = LevelState(0.0, ts_obj)
        levels[subject] = state
    level_policy = policy.level
    cdef tuple thresholds = level_policy.thresholds
    cdef double before = state.score
    cdef double state_ts = state.ts
    if ts > state_ts and before != 0.0:
        before = before * xd_pow(0.5, (ts - state_ts) / <double>level_policy.half_life_s)
    cdef int level_before = _level_of(thresholds, before)
    values["model_score"] = NAN if model_score is None else model_score
    values["anomaly_score"] = NAN if anomaly_score is None else anomaly_score
    values["risk_level"] = <double>level_before

    cdef list hits = []
    cdef list shadow = []
    errors = ()
    whitelisted, listed = engine.watchlists.screen(subject, _get(event, E_DEVICE_ID), _get(event, E_IP))
    action = _ALLOW
    cdef int severity = 0, rule_severity
    cdef double points = 0.0
    etype = _get(event, E_TYPE)
    cdef tuple rules = engine._rules[etype]
    fired, failed = engine._rule_fns[etype](values)
    for i in fired:
        _, rule_id, active_hit, shadow_hit, is_shadow, rule_severity = rules[i]
        if is_shadow or whitelisted:
            shadow.append(shadow_hit)
        else:
            hits.append(active_hit)
            points += <double>active_hit.weight
            if rule_severity > severity:
                severity = rule_severity
                action = active_hit.action
    if failed:
        errors = tuple([f"{rules[i][1]}: {type(exc).__name__}: {exc}" for i, exc in failed])
        engine.stats.rule_errors += len(errors)

    if model_score is not None and model_score == model_score:  # not NaN
        points += <double>policy.model_weight * <double>model_score
    if anomaly_score is not None and anomaly_score == anomaly_score:
        points += <double>policy.anomaly_weight * <double>anomaly_score
    if listed is not None:
        action = _BLOCK

    if etype is _REPAYMENT and _get(event, E_ATTRIBUTES).get("on_time") is True:
        points -= <double>level_policy.good_credit
    cdef int level_after = level_before
    cdef double score, max_score
    if points:
        # ``level.apply_evidence``, inlined.
        score = before + points
        score = score if score > 0.0 else 0.0
        max_score = level_policy.max_score
        state.score = score if score < max_score else max_score
        if ts > state_ts:
            state.ts = ts_obj
        level_after = _level_of(thresholds, state.score)
    if engine.track_dirty:
        engine.dirty.add((_LEVEL, subject))

    event_id = _get(event, E_EVENT_ID)
    decision = _decision(
        (
            "d-" + event_id,
            event_id,
            subject,
            etype.value,
            _isoformat(_get(event, E_OCCURRED_AT)),
            action,
            points,
            tuple(hits),
            tuple(shadow),
            values,
            model_score,
            anomaly_score,
            level_before,
            level_after,
            (engine._clock() - start) * 1e6,
            errors,
            listed,
            _get(event, E_LABEL),
        )
    )
    stats = engine.stats
    stats.processed += 1
    stats.actions[action] += 1
    engine.decisions.append(decision)
    if policy.open_cases and (action is _REVIEW or action is _BLOCK):
        engine._open_case(event, decision, listed)
    return decision


cpdef object process(engine, event, model_score=None):
    """``RiskEngine.process``: admit, indicators (the kernel plan), decide."""
    cdef double start = engine._clock()
    if not admit(engine, event):
        return None
    values = engine._template.copy()
    plan = engine._ind_fns[_get(event, E_TYPE)]
    dirty = engine.dirty if engine.track_dirty else None
    if type(plan) is Plan:
        (<Plan>plan).run(event, values, dirty)
    else:
        plan(event, values, dirty)
    return decide(engine, event, values, start, model_score)
