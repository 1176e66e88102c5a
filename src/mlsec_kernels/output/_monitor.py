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
queries are measured but not stored) and the last `max_distances` distances per class.
"""

from __future__ import annotations

import functools
import math
from collections import deque

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


class _Client:
    __slots__ = ("sets", "norms", "sizes", "threshold", "set_dists", "dists", "queries", "stored", "w", "flag")

    def __init__(self):
        self.sets, self.norms, self.sizes = {}, {}, {}
        self.threshold, self.set_dists, self.dists = {}, {}, {}
        self.queries = self.stored = 0
        self.w, self.flag = None, False


def _sq_dists(q, qn, s, sn):
    """Squared L2 distances (|q|, |s|) by ||a||^2 + ||b||^2 - 2ab (BLAS), clipped at 0."""
    d = qn[:, None] + sn[None, :] - 2.0 * (q @ s.T)
    return np.maximum(d, 0.0, out=d)


class ExtractionMonitor:
    """PRADA extraction detection, per client: ``observe(client_id, x, predicted_labels)``,
    ``is_suspicious(client_id)``, ``stats(client_id)``. See the module docstring."""

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
    ):
        if not 0.0 < float(delta) <= 1.0:
            raise ValueError(f"delta must be in (0, 1], got {delta}")
        for name, v in (
            ("min_distances", min_distances),
            ("min_class_distances", min_class_distances),
            ("check_every", check_every),
            ("max_set_size", max_set_size),
            ("max_distances", max_distances),
        ):
            if int(v) < 1:
                raise ValueError(f"{name} must be >= 1, got {v}")
        self.delta, self.min_distances, self.min_class_distances = (
            float(delta),
            int(min_distances),
            int(min_class_distances),
        )
        self.check_every, self.outlier_std = int(check_every), float(outlier_std)
        self.max_set_size, self.max_distances = int(max_set_size), int(max_distances)
        self._clients: dict = {}

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
        cl = self._clients.setdefault(client_id, _Client())
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
            self._place(cl, label, q[i], pre[label], pos[i])
        cl.queries += q.shape[0]
        if -(-start // self.check_every) * self.check_every < cl.queries:  # a check point was passed
            self._test(cl)
        return cl.flag

    def _distances(self, cl, label, q):
        qn = np.einsum("ij,ij->i", q, q, dtype=np.float64)
        if label not in cl.sets:
            cl.sets[label] = np.empty((min(16, self.max_set_size), q.shape[1]), q.dtype)
            cl.norms[label] = np.empty(cl.sets[label].shape[0])
            cl.sizes[label], cl.threshold[label], cl.set_dists[label] = 0, 0.0, []
            cl.dists[label] = deque(maxlen=self.max_distances)
        k = cl.sizes[label]
        s, sn = cl.sets[label][:k], cl.norms[label][:k]
        to_set = np.sqrt(_sq_dists(q, qn, s, sn).min(axis=1)) if k else np.full(q.shape[0], np.inf)
        within = np.sqrt(_sq_dists(q, qn, q, qn)) if q.shape[0] > 1 else None
        return qn, to_set, within

    def _place(self, cl, label, v, pre, i):
        qn, to_set, within, added = pre  # added: this batch's rows of the class that joined the set
        d = to_set[i]
        if added:
            d = min(d, float(within[i, added].min()))
        if math.isinf(d):  # the class's first query seeds its set
            if self._store(cl, label, v, qn[i], 0.0):
                added.append(i)
            return
        cl.dists[label].append(d)
        if d > cl.threshold[label] and self._store(cl, label, v, qn[i], d):
            added.append(i)
            g = np.asarray(cl.set_dists[label])
            cl.threshold[label] = max(float(g.mean() - g.std()), cl.threshold[label])

    def _store(self, cl, label, v, vn, d):
        if cl.stored >= self.max_set_size:
            return False
        k = cl.sizes[label]
        buf = cl.sets[label]
        if k == buf.shape[0]:
            grown = np.empty((min(2 * k, self.max_set_size), buf.shape[1]), buf.dtype)
            grown[:k] = buf
            cl.sets[label] = buf = grown
            cl.norms[label] = np.resize(cl.norms[label], grown.shape[0])
        buf[k], cl.norms[label][k] = v, vn
        cl.sizes[label] = k + 1
        cl.set_dists[label].append(d)
        cl.stored += 1
        return True

    def _test(self, cl):
        pooled = [np.fromiter(d, float) for d in cl.dists.values() if len(d) >= self.min_class_distances]
        if not pooled:
            return
        d = np.concatenate(pooled)
        d = d[np.abs(d - d.mean()) < self.outlier_std * d.std()] if d.std() > 0 else d
        if d.size > self.min_distances:
            cl.w = shapiro_wilk(d)
            cl.flag = cl.w < self.delta

    def is_suspicious(self, client_id) -> bool:
        """Whether the client's last test flagged it (False before any test)."""
        cl = self._clients.get(client_id)
        return bool(cl.flag) if cl else False

    def stats(self, client_id) -> dict:
        """queries, stored (growing-set size), distances, w (last Shapiro-Wilk W or None), suspicious."""
        cl = self._clients.get(client_id)
        if cl is None:
            return dict(queries=0, stored=0, distances=0, w=None, suspicious=False)
        return dict(
            queries=cl.queries,
            stored=cl.stored,
            distances=sum(len(d) for d in cl.dists.values()),
            w=cl.w,
            suspicious=bool(cl.flag),
        )

    def forget(self, client_id) -> None:
        """Drops a client's state."""
        self._clients.pop(client_id, None)
