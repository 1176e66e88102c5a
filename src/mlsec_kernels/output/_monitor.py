"""PRADA: detecting model extraction from a client's query stream (Juuti, Szyller,
Marchal & Asokan, "PRADA: Protecting against DNN Model Stealing Attacks", EuroS&P 2019).

Per client and per predicted class a growing set of queries is kept. Each new query's
minimum L2 distance to its class's set is recorded; the query joins the set when that
distance exceeds the class's threshold, which then becomes max(threshold, mean - std) of
the set's own distances (the first member counts 0). Natural queries give roughly normal
distances; synthetic extraction queries (small steps around seeds) do not. Defaults are
the paper's reference code: a test every 10 queries, classes with at least 10 distances
pooled, outliers beyond 3 standard deviations dropped, more than 100 distances needed,
flag when the Shapiro-Wilk W < delta = 0.9. Here the test runs at the end of each
`observe` call in which a 10th query was passed.

Memory per client is capped: at most `max_set_size` stored queries over all classes
(max_set_size * query bytes, 5000 * 12 KiB = 60 MiB for 3x32x32 float32; later far
queries are measured but not stored) and the last `max_distances` distances per class;
the whole monitor's by `max_clients` and `max_bytes`, past which the least recently
observed clients are evicted (see :class:`ExtractionMonitor` for what that costs).
A query's distance is measured from its difference to the nearest stored query, so a
repeated query is at distance 0 however the stream is batched.
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict

import numpy as np

from .._stats import _A, _B, _C, _D, _poly  # Acklam's normal-quantile coefficients


def normal_quantile(p):
    """Phi^-1(p) for p in (0, 1), elementwise (Acklam's rational approximation, relative
    error below 1.2e-9: far below what the W statistic can resolve)."""
    p = np.asarray(p, dtype=np.float64)
    lo = np.minimum(p, 1.0 - p)
    tail = lo < 0.02425
    q = np.sqrt(-2.0 * np.log(np.where(tail, lo, 0.5)))
    xt = _poly(_C, q) / (_poly(_D, q) * q + 1.0)
    xt = np.where(p < 0.5, xt, -xt)
    c = p - 0.5
    r = c * c
    xc = _poly(_A, r) * c / (_poly(_B, r) * r + 1.0)
    return np.where(tail, xt, xc)


@functools.lru_cache(maxsize=64)
def _sw_coefficients(n: int) -> np.ndarray:
    """Royston's (1992, 1995: AS R94) approximation of the Shapiro-Wilk coefficients a_1..a_n
    (cached: PRADA tests growing samples, but often of a size seen before)."""
    if n == 3:
        return np.array([-math.sqrt(0.5), 0.0, math.sqrt(0.5)])
    m = normal_quantile((np.arange(1, n + 1) - 0.375) / (n + 0.25))
    mm = float(m @ m)
    u = 1.0 / math.sqrt(n)
    a = m / math.sqrt(mm)
    an = a[-1] + _poly((-2.706056, 4.434685, -2.071190, -0.147981, 0.221157, 0.0), u)
    if n > 5:
        an1 = a[-2] + _poly((-3.582633, 5.682633, -1.752461, -0.293762, 0.042981, 0.0), u)
        phi = (mm - 2 * m[-1] ** 2 - 2 * m[-2] ** 2) / (1 - 2 * an**2 - 2 * an1**2)
        a = m / math.sqrt(phi)
        a[-2], a[1] = an1, -an1
    else:
        phi = (mm - 2 * m[-1] ** 2) / (1 - 2 * an**2)
        a = m / math.sqrt(phi)
    a[-1], a[0] = an, -an
    return a


def shapiro_wilk(x) -> float:
    """The Shapiro-Wilk W statistic of a sample (n >= 3), by Royston's algorithm (AS R94),
    as scipy.stats.shapiro computes it. A constant sample gives 1.0."""
    x = np.sort(np.asarray(x, dtype=np.float64).reshape(-1))
    n = x.size
    if n < 3:
        raise ValueError(f"the Shapiro-Wilk test needs at least 3 values, got {n}")
    ss = float(np.sum((x - x.mean()) ** 2))
    if ss == 0.0:
        return 1.0
    return min(1.0, float(_sw_coefficients(n) @ x) ** 2 / ss)


class _Class:
    """One predicted class of a client: its growing set (the stored queries, their squared
    norms and the distance each had when it joined), its threshold, and the last
    `max_distances` distances of its queries in a ring. Buffers start small and double up
    to their caps, so an idle client costs little."""

    __slots__ = ("rows", "norms", "joined", "size", "threshold", "ring", "count")

    def __init__(self, dim, dtype, max_rows, max_distances):
        cap = min(_START, max_rows)
        self.rows = np.empty((cap, dim), dtype)
        self.norms, self.joined = np.empty(cap), np.empty(cap)
        self.size, self.threshold = 0, 0.0
        self.ring = np.empty(min(_START, max_distances))
        self.count = 0  # distances recorded so far (the ring holds the last ones)

    @property
    def nbytes(self) -> int:
        return self.rows.nbytes + self.norms.nbytes + self.joined.nbytes + self.ring.nbytes

    def add_distance(self, d, max_distances):
        cap = self.ring.shape[0]
        if self.count == cap and cap < max_distances:  # not yet wrapped: grow in order
            self.ring = np.concatenate((self.ring, np.empty(min(cap, max_distances - cap))))
        self.ring[self.count % self.ring.shape[0]] = d
        self.count += 1

    def distances(self):
        """The last max_distances distances, oldest first."""
        cap = self.ring.shape[0]
        if self.count <= cap:
            return self.ring[: self.count]
        h = self.count % cap
        return np.concatenate((self.ring[h:], self.ring[:h]))

    def store(self, v, vn, d, max_rows):
        k = self.size
        if k == self.rows.shape[0]:
            cap = min(2 * k, max_rows)
            rows = np.empty((cap, self.rows.shape[1]), self.rows.dtype)
            rows[:k] = self.rows
            self.rows, self.norms, self.joined = rows, np.resize(self.norms, cap), np.resize(self.joined, cap)
        self.rows[k], self.norms[k], self.joined[k] = v, vn, d
        self.size = k + 1


_START = 4  # rows and distances a class's buffers start with


class _Client:
    __slots__ = ("classes", "queries", "stored", "w", "flag", "nbytes")

    def __init__(self):
        self.classes = {}
        self.queries = self.stored = self.nbytes = 0
        self.w, self.flag = None, False

    def stats(self) -> dict:
        return dict(
            queries=self.queries,
            stored=self.stored,
            distances=sum(min(c.count, c.ring.shape[0]) for c in self.classes.values()),
            w=self.w,
            suspicious=bool(self.flag),
            nbytes=self.nbytes,
        )


_NO_CLIENT = dict(queries=0, stored=0, distances=0, w=None, suspicious=False, nbytes=0)


def _sq_dists(q, qn, s, sn):
    """Squared L2 distances (|q|, |s|) by ||a||^2 + ||b||^2 - 2ab (BLAS), clipped at 0."""
    d = qn[:, None] + sn[None, :] - 2.0 * (q @ s.T)
    return np.maximum(d, 0.0, out=d)


def _exact(a, b):
    """Row-wise L2 distances from the differences (summed in float64). The BLAS formula
    above picks the nearest row; its rounding (about 1e-8 of the norms in float64, 1e-4
    in float32) would make a repeated query's distance 0 in one batching and not in
    another, and PRADA stores a query whose distance exceeds a threshold that starts at 0."""
    diff = a - b
    return np.sqrt(np.einsum("ij,ij->i", diff, diff, dtype=np.float64))


def _limit(v, name):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an int or None, got {type(v).__name__}")
    if v < 1:
        raise ValueError(f"{name} must be >= 1 (or None: unbounded), got {v}")
    return int(v)


class ExtractionMonitor:
    """PRADA extraction detection, per client: ``observe(client_id, x, predicted_labels)``,
    ``is_suspicious(client_id)``, ``stats(client_id)``. See the module docstring.

    Memory budget (a server must not grow without bound: an attacker can open clients
    faster than anyone can forget them): at most ``max_clients`` clients (default 10_000)
    and ``max_bytes`` bytes of per-client arrays (default 1 GiB: stored queries, their
    norms, the distances), either None for no bound. Past a bound the least recently
    observed clients are evicted (an LRU order, O(1) per call; ``stats`` and
    ``is_suspicious`` read without refreshing a client). Each eviction adds one to
    ``evictions`` and calls ``on_evict(client_id, stats)`` with the client's last
    ``stats`` (e.g. to keep a flagged client on a block list). The client being observed
    goes last: only when it alone exceeds ``max_bytes`` is it evicted itself (after its
    test; that call still returns its flag). ``nbytes`` and ``len(monitor)`` report the use.

    What eviction costs: an evicted client's history is gone, and its next query starts
    a new one, which needs ``min_distances`` queries before it can be flagged again. An
    attacker who spreads queries over more identities than ``max_clients`` (or enough
    large queries to push its identities past ``max_bytes``) in round robin resets its
    own statistic before it ever reaches a test. Size the bounds for the clients you
    serve, and limit identities upstream (authentication, rate limits per account).

    Thread-safe: calls from any threads are serialised by one lock (they do not run in
    parallel); ``on_evict`` runs after the lock is released, on the observing thread.
    """

    def __init__(
        self,
        delta=0.9,
        *,
        min_distances=100,
        min_class_distances=10,
        check_every=10,
        outlier_std=3.0,
        max_set_size=5000,
        max_distances=5000,
        max_clients=10_000,
        max_bytes=1 << 30,
        on_evict=None,
    ):
        if isinstance(delta, bool) or not isinstance(delta, (int, float, np.integer, np.floating)):
            raise TypeError(f"delta must be a number in (0, 1], got {type(delta).__name__}")
        if not 0.0 < float(delta) <= 1.0:
            raise ValueError(f"delta must be in (0, 1], got {delta}")
        for name, v in (
            ("min_distances", min_distances),
            ("min_class_distances", min_class_distances),
            ("check_every", check_every),
            ("max_set_size", max_set_size),
            ("max_distances", max_distances),
        ):
            if _limit(v, name) is None:
                raise TypeError(f"{name} must be an int, got None")
        if on_evict is not None and not callable(on_evict):
            raise TypeError(f"on_evict must be callable or None, got {type(on_evict).__name__}")
        self.delta, self.min_distances, self.min_class_distances = (
            float(delta),
            int(min_distances),
            int(min_class_distances),
        )
        self.check_every, self.outlier_std = int(check_every), float(outlier_std)
        self.max_set_size, self.max_distances = int(max_set_size), int(max_distances)
        self.max_clients, self.max_bytes = _limit(max_clients, "max_clients"), _limit(max_bytes, "max_bytes")
        self.on_evict = on_evict
        self.evictions = 0
        self._nbytes = 0
        self._clients: OrderedDict = OrderedDict()  # least recently observed first
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        """Bytes of the clients' arrays (what ``max_bytes`` bounds); Python's own objects
        add about 1 KB per client and per class on top."""
        return self._nbytes

    def __len__(self):
        return len(self._clients)

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def observe(self, client_id, x, predicted_labels):
        """Records a batch of a client's queries x (B, ...) in order, with the labels the
        model predicted (B,) (or scores (B, C), reduced by argmax). Returns is_suspicious."""
        x = np.asarray(x)
        if x.ndim < 1 or x.dtype.kind not in "fiu":
            raise ValueError("x must be a numeric array with queries on the first axis")
        dt = np.float32 if x.dtype == np.float32 else np.float64
        q = np.ascontiguousarray(x.reshape(x.shape[0], -1), dtype=dt)
        y = np.asarray(predicted_labels)
        y = np.argmax(y, axis=1) if y.ndim == 2 else y.reshape(-1)
        if y.shape[0] != q.shape[0]:
            raise ValueError(f"predicted_labels must have one label per query: {y.shape[0]} vs {q.shape[0]}")
        with self._lock:
            cl = self._clients.get(client_id)
            if cl is None:
                cl = self._clients[client_id] = _Client()
            else:
                self._clients.move_to_end(client_id)
            dim = next((c.rows.shape[1] for c in cl.classes.values()), q.shape[1])
            if q.shape[1] != dim:
                raise ValueError(
                    f"x must hold queries of {dim} values, like this client's earlier ones; got {q.shape[1]}"
                )
            try:
                flag = self._observe(cl, q, y)
            finally:  # the accounting holds whatever happened
                nbytes = sum(c.nbytes for c in cl.classes.values())
                self._nbytes += nbytes - cl.nbytes
                cl.nbytes = nbytes
            evicted = self._evict()
        for who, st in evicted:
            if self.on_evict is not None:
                self.on_evict(who, st)
        return flag

    def _evict(self):
        """Drops least recently observed clients until both bounds hold."""
        out = []
        while self._clients and (
            (self.max_clients is not None and len(self._clients) > self.max_clients)
            or (self.max_bytes is not None and self._nbytes > self.max_bytes)
        ):
            who, cl = self._clients.popitem(last=False)
            self._nbytes -= cl.nbytes
            self.evictions += 1
            out.append((who, cl.stats()))
        return out

    def _observe(self, cl, q, y):
        start = cl.queries
        # Distances to the stored sets and within the batch come from two matrix products
        # per class; the queries are then taken in arrival order (the sets, and the memory
        # cap shared by all classes, depend on it).
        pre, pos = {}, np.empty(len(y), np.int64)
        for label in dict.fromkeys(y.tolist()):
            rows = np.flatnonzero(y == label)
            pos[rows] = np.arange(rows.size)
            pre[label] = self._distances(cl, label, q[rows]) + ([],)
        for i, label in enumerate(y.tolist()):
            self._place(cl, cl.classes[label], q[i], pre[label], pos[i])
        cl.queries += q.shape[0]
        if -(-start // self.check_every) * self.check_every < cl.queries:  # a check point was passed
            self._test(cl)
        return cl.flag

    def _distances(self, cl, label, q):
        qn = np.einsum("ij,ij->i", q, q, dtype=np.float64)
        c = cl.classes.get(label)
        if c is None:
            c = cl.classes[label] = _Class(q.shape[1], q.dtype, self.max_set_size, self.max_distances)
        k = c.size
        if k:
            near = c.rows[_sq_dists(q, qn, c.rows[:k], c.norms[:k]).argmin(axis=1)]
            to_set = _exact(q, near)
        else:
            to_set = np.full(q.shape[0], np.inf)
        within = _sq_dists(q, qn, q, qn) if q.shape[0] > 1 else None
        return qn, to_set, within, q

    def _place(self, cl, c, v, pre, i):
        qn, to_set, within, q, added = pre  # added: this batch's rows of the class that joined the set
        d = to_set[i]
        if added:
            j = added[int(np.argmin(within[i, added]))]
            d = min(d, float(_exact(v[None], q[j][None])[0]))
        if math.isinf(d):  # the class's first query seeds its set
            if self._store(cl, c, v, qn[i], 0.0):
                added.append(i)
            return
        c.add_distance(d, self.max_distances)
        if d > c.threshold and self._store(cl, c, v, qn[i], d):
            added.append(i)
            g = c.joined[: c.size]
            c.threshold = max(float(g.mean() - g.std()), c.threshold)

    def _store(self, cl, c, v, vn, d):
        if cl.stored >= self.max_set_size:
            return False
        c.store(v, vn, d, self.max_set_size)
        cl.stored += 1
        return True

    def _test(self, cl):
        pooled = [
            c.distances() for c in cl.classes.values() if min(c.count, c.ring.shape[0]) >= self.min_class_distances
        ]
        if not pooled:
            return
        d = np.concatenate(pooled)
        d = d[np.abs(d - d.mean()) < self.outlier_std * d.std()] if d.std() > 0 else d
        if d.size > self.min_distances:
            cl.w = shapiro_wilk(d)
            cl.flag = cl.w < self.delta

    def is_suspicious(self, client_id) -> bool:
        """Whether the client's last test flagged it (False before any test, and after
        the client was evicted or forgotten)."""
        with self._lock:
            cl = self._clients.get(client_id)
            return bool(cl.flag) if cl else False

    def stats(self, client_id) -> dict:
        """queries, stored (growing-set size), distances, w (last Shapiro-Wilk W or None),
        suspicious, nbytes (its arrays). A client never seen, evicted or forgotten has
        zeros."""
        with self._lock:
            cl = self._clients.get(client_id)
            return dict(_NO_CLIENT) if cl is None else cl.stats()

    def forget(self, client_id) -> None:
        """Drops a client's state (not counted as an eviction)."""
        with self._lock:
            cl = self._clients.pop(client_id, None)
            if cl is not None:
                self._nbytes -= cl.nbytes
