"""DAWN: dynamic adversarial watermarking of a model's API (Szyller, Atli, Marchal &
Asokan, "DAWN: Dynamic Adversarial Watermarking of Neural Networks", ACM MM 2021).

A keyed pseudorandom function of each query's bytes, HMAC-SHA256 (RFC 2104), decides
whether the query is marked: digest bytes 0..7 read as a little-endian uint64 h select it
when ``h < rate * 2**64``. A marked query gets a wrong label fixed by the same digest:
with true label y = argmax(p) and bytes 8..15 as a little-endian uint64 g, the returned
label is ``(y + 1 + g % (C - 1)) % C``, and the returned scores are p with the entries of
y and of that label swapped (still a probability vector, now ranking the wrong label
first). Identical queries are answered identically, so the mark cannot be averaged away.

The digests are computed in C++ for the whole batch, rows in parallel, and equal
``hmac.new(key, row.tobytes(), hashlib.sha256).digest()``. Queries must be host arrays:
a device array is refused (copy it explicitly, e.g. ``cupy.asnumpy``, if you mean to);
the hash is over the row's C-order bytes in its own dtype.
"""

from __future__ import annotations

import hashlib
import hmac
import math

import numpy as np

from .. import _backend


def _host(a, name):
    if hasattr(a, "__cuda_array_interface__") or getattr(a, "is_cuda", False):
        raise TypeError(
            f"{name} must be a host array: Watermark hashes on the host and does not copy "
            "device data silently (copy it explicitly first)"
        )
    return np.ascontiguousarray(np.asarray(a))


def _tail_at_least(k: int, n: int, q: float) -> float:
    """P[X >= k] for X ~ Binomial(n, q), summed in log space."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    lq, lr = math.log(q), math.log1p(-q)
    terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lq + (n - i) * lr
        for i in range(k, n + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * math.fsum(math.exp(t - top) for t in terms))


class _Key:
    """The key's bytes behind an object that does not show them: not in a repr, not in
    ``vars()`` or ``dir()`` dumps of the Watermark, and refused by pickle and copy (the
    Watermark decides what its copies and pickles hold)."""

    __slots__ = ("_bytes",)

    def __init__(self, key: bytes):
        self._bytes = key

    def __repr__(self):
        return f"<secret key, {len(self._bytes)} bytes>"

    def __reduce_ex__(self, protocol):
        raise TypeError(_NOT_PICKLABLE)


_NOT_PICKLABLE = (
    "a Watermark is not picklable by default: it holds its secret key, and a pickle (a saved "
    "model or server, a multiprocessing task) carries the key to wherever its bytes go. Keep the "
    "key in a secrets manager, an environment variable or a file only the service can read "
    "(mode 0600), and build Watermark(key) where it is used; to pickle it anyway, create it "
    "with Watermark(key, rate, picklable=True)"
)


class Watermark:
    """DAWN watermarking: ``apply(x, p)`` marks about `rate` of the queries with a keyed
    wrong label; ``verify(suspect_predict, x_marked, labels_marked)`` tells a model
    trained on the marked answers from an independent one.

    key: bytes or str (UTF-8), not empty; rate in (0, 1).

    The key is a secret: it is kept out of ``vars(w)``, ``repr(w)`` and every message, and
    pickling a Watermark raises a TypeError unless it was created with
    ``picklable=True`` (then the pickle holds the key in the clear: protect it as the key
    itself). ``copy.copy`` and ``copy.deepcopy`` work either way: a copy stays in this
    process, shares the key and keeps the ``picklable`` choice.

    Thread-safe: ``digests``, ``apply``, ``labels`` and ``verify`` only read the key and
    the rate, so one Watermark may serve many threads (``num_classes`` is the C of the
    latest ``apply``; pass ``num_classes=`` to ``verify`` when threads see different C).
    """

    __slots__ = ("_key", "_picklable", "__dict__")

    def __init__(self, key, rate=0.005, *, picklable=False):
        if isinstance(key, str):
            key = key.encode()
        if not isinstance(key, (bytes, bytearray)):
            raise TypeError(f"key must be bytes or str, got {type(key).__name__}")
        if not key:
            raise ValueError("key must not be empty")
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
            raise TypeError(f"rate must be a number in (0, 1), got {type(rate).__name__}")
        rate = float(rate)
        if not 0.0 < rate < 1.0:
            raise ValueError(f"rate must be in (0, 1), got {rate}")
        if not isinstance(picklable, bool):
            raise TypeError(f"picklable must be a bool, got {type(picklable).__name__}")
        self._key, self._picklable = _Key(bytes(key)), picklable
        self.rate = rate
        self._cut = np.uint64(min(int(rate * 2.0**64), 2**64 - 1))
        self.num_classes = None

    def __repr__(self):
        return f"Watermark(key=<{len(self._key._bytes)} bytes>, rate={self.rate})"

    def __reduce_ex__(self, protocol):
        if not self._picklable:
            raise TypeError(_NOT_PICKLABLE)
        return (_restore, (self._key._bytes, self.rate, self.num_classes))

    def __copy__(self):
        return _restore(self._key._bytes, self.rate, self.num_classes, self._picklable)

    def __deepcopy__(self, memo):
        return self.__copy__()

    def digests(self, x):
        """HMAC-SHA256 of each row's bytes, (N, 32) uint8."""
        x = _host(x, "x")
        if x.ndim < 1:
            raise ValueError("x must have at least one axis (queries first)")
        out = np.empty((x.shape[0], 32), np.uint8)
        if _backend._cpu is not None:
            try:
                _backend._cpu.hmac_sha256(self._key._bytes, x.reshape(x.shape[0], -1), out)
                return out
            except _backend._cpu.Fallback:  # e.g. big-endian data: hashed as it is, in Python
                pass
        for i in range(x.shape[0]):
            out[i] = np.frombuffer(hmac.new(self._key._bytes, x[i].tobytes(), hashlib.sha256).digest(), np.uint8)
        return out

    def _words(self, d):
        w = np.ascontiguousarray(d[:, :16]).view("<u8")
        return w[:, 0], w[:, 1]

    def apply(self, x, p):
        """(marked p, mask): p (N, C) scores for queries x (N, ...); rows where mask is
        True carry the watermark's wrong label (see the module docstring)."""
        x = _host(x, "x")
        p = _host(p, "p")
        if p.ndim != 2 or p.shape[1] < 2:
            raise ValueError(f"p must be 2-D (N, C) with C >= 2, got shape {p.shape}")
        if x.shape[0] != p.shape[0]:
            raise ValueError(f"x and p must hold the same number of queries: {x.shape[0]} vs {p.shape[0]}")
        n, c = p.shape
        self.num_classes = c
        h, g = self._words(self.digests(x))
        mask = h < self._cut
        out = p.copy()
        rows = np.flatnonzero(mask)
        if rows.size:
            y = np.argmax(p[rows], axis=1)
            w = (y + 1 + (g[rows] % np.uint64(c - 1)).astype(np.int64)) % c
            out[rows, y], out[rows, w] = p[rows, w], p[rows, y]
        return out, mask

    def labels(self, x, p):
        """The labels `apply` returns: argmax of the marked scores."""
        return np.argmax(self.apply(x, p)[0], axis=1)

    def verify(self, suspect_predict, x_marked, labels_marked, *, num_classes=None):
        """(match rate, p-value): how often the suspect returns the watermark's labels on
        the marked queries, and the probability of at least that many matches for a model
        that picks each of the C classes with chance 1/C (a conservative null: a model
        that learned the task hits a given wrong label less often than that)."""
        c = num_classes or self.num_classes
        if c is None or c < 2:
            raise ValueError("num_classes is unknown: pass num_classes= (or call apply first)")
        labels = np.asarray(labels_marked).reshape(-1)
        if labels.size == 0:
            raise ValueError("labels_marked is empty: nothing to verify")
        pred = np.asarray(suspect_predict(x_marked))
        if pred.ndim == 2:
            pred = np.argmax(pred, axis=1)
        if pred.shape != labels.shape:
            raise ValueError(f"suspect_predict returned {pred.shape[0]} predictions for {labels.size} marked queries")
        k = int(np.sum(pred == labels))
        return k / labels.size, _tail_at_least(k, labels.size, 1.0 / c)


def _restore(key, rate, num_classes, picklable=True):
    w = Watermark(key, rate, picklable=picklable)
    w.num_classes = num_classes
    return w
