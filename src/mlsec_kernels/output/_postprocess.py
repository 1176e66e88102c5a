"""The post-processors and the Guard: programs of one kernel (cpp/output.hpp), whose
steps rewrite each row in place; see :mod:`mlsec_kernels.output`."""

from __future__ import annotations

import contextlib
import math
import os
import threading

import numpy as np

from .. import _constants as C
from .._arrays import Call, _float_or_inf, check_flag, describe
from .._backend import GENERAL, fast
from .._seeds import check_sample_start
from ..rng import Generator, check_u64, seed_and_substream

# Step kinds and renormalisation modes of cpp/output.hpp.
# The step codes the kernels decode (cpp/output.hpp, exported by the extension).
_RS, _GN, _ROUND, _HC, _TOPK, _CL = (
    C.REVERSE_SIGMOID,
    C.GAUSSIAN_NOISE,
    C.ROUND,
    C.HIGH_CONFIDENCE,
    C.TOP_K,
    C.CLASS_LABELS,
)
_RENORM = {False: C.RENORM_NEVER, True: C.RENORM_ALWAYS, "auto": C.RENORM_AUTO}
_MAX_STEPS = C.MAX_STEPS

# seed=None: one secret seed per process from the OS's CSPRNG and a fresh substream per
# call, as unpredictable as a new seed per call and without a system call in the server's
# hot path (about 1 us here). A forked worker draws its own.
_unseeded = Generator()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: globals().update(_unseeded=Generator()))


# Parameter checks, the same messages as python/ops/output.hpp.
def _real(v, name, positive=False):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(v).__name__}")
    f = _float_or_inf(v)  # (an int beyond float's range is not finite, not an OverflowError)
    if not (f > 0 if positive else f >= 0) or math.isinf(f):
        raise ValueError(
            f"{name} must be finite and {'> 0' if positive else '>= 0'}, got {v if math.isfinite(f) else f}"
        )
    return f


def _int(v, name):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if not -(2**63) <= int(v) < 2**63:  # the binding's int64, with its words
        raise ValueError(f"{name} is out of range: {v}")
    return int(v)


def _renorm(v):
    if isinstance(v, np.bool_):
        return bool(v)
    if not (v is True or v is False or (isinstance(v, str) and v == "auto")):
        raise ValueError(f"renormalize must be 'auto', True or False, got {describe(v)}")
    return v


def _check(prog, c, n):
    """The checks of python/ops/output.hpp, for the general path: the program with its
    parameters validated and made Python floats and ints (NumPy scalars included)."""
    out = []
    for s in prog:
        if s[0] == _GN:
            s = (_GN, _real(s[1], "scale")) + tuple(s[2:5]) + (check_sample_start(s[5], n, c, 63),)
        elif s[0] == _TOPK and not 1 <= _int(s[1], "k") <= c:  # the binding's words (TopK's lack C)
            raise ValueError(f"k must be in [1, C] = [1, {c}], got {s[1]}")
        elif s[0] in _DECODE:
            s = _DECODE[s[0]](*s[1:])._encode()
        out.append(s)
    return tuple(out)


def _run(p, prog, out, backend):
    o = fast(backend, p, "output", prog, out=out)
    if o is not GENERAL:
        return o
    c = Call(backend, p=p)
    if len(c.shape) != 2:
        raise ValueError(f"p must be 2-D (N, C), got shape {c.shape}")
    prog = _check(prog, c.shape[1], c.shape[0])
    o = c.output(out)  # checked before views copies p
    c.kernel("output")(c.views[0], prog, o)
    return c.result()


class _Step:
    __slots__ = ()

    def __repr__(self):
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and all(getattr(self, k) == getattr(other, k) for k in self._fields)

    def __hash__(self):
        return hash((type(self).__name__,) + tuple(getattr(self, k) for k in self._fields))


class ReverseSigmoid(_Step):
    """Reverse sigmoid (Lee et al. 2019) as ART computes it; see :func:`reverse_sigmoid`."""

    __slots__ = ("beta", "gamma")
    _fields = __slots__

    def __init__(self, beta=1.0, gamma=0.1):
        self.beta, self.gamma = _real(beta, "beta", True), _real(gamma, "gamma", True)

    def _encode(self):
        return (_RS, self.beta, self.gamma)


class GaussianNoise(_Step):
    """Additive Gaussian noise; see :func:`gaussian_noise`. The step owns a
    :class:`~mlsec_kernels.rng.Generator`: call i of a seeded step uses substream i,
    reproducibly; an unseeded one draws its seed from the OS's CSPRNG, and draws a new
    one when unpickled (copies of a server must not share a noise stream)."""

    __slots__ = ("scale", "seed", "renormalize", "_gen")
    _fields = ("scale", "seed", "renormalize")

    def __init__(self, scale=0.2, seed=None, renormalize="auto", *, _next=0):
        self.scale = _real(scale, "scale")
        self.seed = None if seed is None else check_u64(seed, "seed")
        self.renormalize = _renorm(renormalize)
        self._gen = Generator(self.seed, substream=_next)

    def _encode(self):
        return (_GN, self.scale, self._gen.seed, self._gen.next_substream(), _RENORM[self.renormalize], 0)

    def __reduce__(self):
        # A seeded copy continues where this step stands (read, not taken: a call on
        # another thread meanwhile keeps its own substream).
        nxt = 0 if self.seed is None else self._gen.position
        return (_rebuild_noise, (self.scale, self.seed, self.renormalize, nxt))


def _rebuild_noise(scale, seed, renormalize, nxt):
    return GaussianNoise(scale, seed, renormalize, _next=nxt)


class Round(_Step):
    """Rounding to `decimals` places, half to even (np.round); see :func:`round`."""

    __slots__ = ("decimals",)
    _fields = __slots__

    def __init__(self, decimals=3):
        self.decimals = _int(decimals, "decimals")
        if self.decimals < 0:
            raise ValueError(f"decimals must be >= 0, got {self.decimals}")

    def _encode(self):
        return (_ROUND, self.decimals)


class HighConfidence(_Step):
    """Entries below `cutoff` set to 0 (ART's HighConfidence)."""

    __slots__ = ("cutoff",)
    _fields = __slots__

    def __init__(self, cutoff=0.25):
        self.cutoff = _real(cutoff, "cutoff")

    def _encode(self):
        return (_HC, self.cutoff)


class TopK(_Step):
    """The k largest entries of each row kept (1 with one_hot), the rest 0."""

    __slots__ = ("k", "one_hot")
    _fields = __slots__

    def __init__(self, k, one_hot=False):
        self.k, self.one_hot = _int(k, "k"), check_flag(one_hot, "one_hot")
        if self.k < 1:
            raise ValueError(f"k must be in [1, C], got {self.k}")

    def _encode(self):
        return (_TOPK, self.k, self.one_hot)


class ClassLabels(_Step):
    """One-hot of each row's argmax (first index on ties, NaN counted largest)."""

    __slots__ = ()
    _fields = ()

    def _encode(self):
        return (_CL,)


_DECODE = {_RS: ReverseSigmoid, _ROUND: Round, _HC: HighConfidence, _TOPK: TopK}


class Guard:
    """A composed post-processor, run as one fused kernel pass per call.

    ``Guard([ReverseSigmoid(beta=0.8, gamma=0.2), GaussianNoise(scale=0.01), Round(3), TopK(5)])``
    then ``guard(p)``: bit for bit the steps applied one after the other, at the cost of
    reading and writing p once. Picklable (an unseeded GaussianNoise redraws its secret).

    Thread-safe: one Guard may serve any number of threads at once. Each call takes its
    noise substreams in one step (under the Guard's lock when it has several noise steps),
    so every call gets its result as if it ran alone, with substreams no other call gets:
    with seeded noise, N concurrent calls return the results of N calls one after the
    other, in the order the threads happened to take their substreams.
    """

    def __init__(self, steps):
        steps = tuple(steps)
        for s in steps:
            if not isinstance(s, _Step):
                raise TypeError(
                    f"Guard steps must be ReverseSigmoid, GaussianNoise, Round, HighConfidence, TopK or ClassLabels, got {type(s).__name__}"
                )
        if len(steps) > _MAX_STEPS:
            raise ValueError(f"a Guard takes at most {_MAX_STEPS} steps, got {len(steps)}")
        self.steps = steps
        # Encoded once; only a noise step is encoded per call (it takes a fresh substream).
        self._noise = [i for i, s in enumerate(steps) if isinstance(s, GaussianNoise)]
        self._prog = [s._encode() if not isinstance(s, GaussianNoise) else None for s in steps]
        self._static = tuple(self._prog) if not self._noise else None
        # One noise step takes its substream atomically (its Generator's lock); several
        # take theirs together, so that concurrent calls do not interleave them.
        self._lock = threading.Lock() if len(self._noise) > 1 else contextlib.nullcontext()

    def __call__(self, p, *, out=None, backend="auto"):
        prog = self._static
        if prog is None:
            parts = self._prog.copy()
            with self._lock:
                for i in self._noise:
                    parts[i] = self.steps[i]._encode()
            prog = tuple(parts)
        return _run(p, prog, out, backend)

    def __repr__(self):
        return f"Guard([{', '.join(map(repr, self.steps))}])"

    def __reduce__(self):
        return (Guard, (list(self.steps),))


def reverse_sigmoid(p, *, beta=1.0, gamma=0.1, out=None, backend="auto"):
    """Reverse sigmoid perturbation (Lee et al., "Defending against NN model stealing
    attacks using deceptive perturbations", IEEE S&P Workshops 2019), as ART computes it.

    ``pc = clip(p, 1e-9, 1-1e-9)``, ``r = beta*(sigmoid(gamma*logit(pc)) - 1/2)``,
    ``q = clip(p - r, 0, 1)`` renormalised per row (a row with no mass left comes out
    uniform rather than NaN). One column (a binary model's P(positive)) is ART's binary
    form: the terms of ``[p, 1 - p]``, the second clipped as ``1 - pc``, and p's share
    ``q1 / (q1 + q2)``. The clip bounds, beta and gamma are rounded to the dtype of p, as
    NumPy does (1 - 1e-9 is 1 in float32).

    Reference: :func:`mlsec_kernels.reference.output.reverse_sigmoid`.
    """
    return _run(p, ((_RS, beta, gamma),), out, backend)


def gaussian_noise(p, *, scale=0.2, seed=None, renormalize="auto", sample_start=0, out=None, backend="auto"):
    """Additive Gaussian noise of standard deviation `scale` (ART's GaussianNoise).

    With ``renormalize=True``, or ``"auto"`` on rows that are probabilities (entries in
    [0, 1], sum within 1e-3 of 1; decided per row), negatives are zeroed and the row is
    divided by its sum; a row that would sum to zero keeps its noiseless values. One
    column (P(positive)) has nothing to renormalise: a probability (the entry in [0, 1]
    under ``"auto"``, always with True) is clipped to [0, 1] after its noise. `seed`:
    an int (substream 0: the same noise each call), a :class:`~mlsec_kernels.rng.Generator`
    (its next substream) or None (unpredictable). Float32 noise is computed in float32; float64 noise is the float32
    normal widened, times scale.

    ``sample_start``: the index in a larger batch of p's first row (an int >= 0, default
    0), for a batch run in pieces: entry (r, j) draws stream element
    ``(sample_start + r)*C + j``, so ``gaussian_noise(p[a:b], seed=k, sample_start=a)`` is
    ``gaussian_noise(p, seed=k)[a:b]`` bit for bit; ``(sample_start + N) * C`` must stay
    within 2**63. (The :class:`GaussianNoise` step of a Guard always starts at row 0.)

    Reference: :func:`mlsec_kernels.reference.output.gaussian_noise`.
    """
    key, sub = (_unseeded.seed, _unseeded.next_substream()) if seed is None else seed_and_substream(seed)
    return _run(p, ((_GN, scale, key, sub, _RENORM[_renorm(renormalize)], sample_start),), out, backend)


def round(p, *, decimals=3, out=None, backend="auto"):  # noqa: A001 (the NumPy name)
    """Rounding to `decimals` places, half to even, bit for bit NumPy's ``np.round`` in the
    dtype of p (multiply by 10**decimals, rint, divide). ``decimals >= 0``.

    Reference: :func:`mlsec_kernels.reference.output.round`.
    """
    return _run(p, ((_ROUND, decimals),), out, backend)


def high_confidence(p, *, cutoff=0.25, out=None, backend="auto"):
    """Entries below `cutoff` (rounded to the dtype of p) set to 0 (ART's HighConfidence).

    Reference: :func:`mlsec_kernels.reference.output.high_confidence`.
    """
    return _run(p, ((_HC, cutoff),), out, backend)


def top_k(p, k, *, one_hot=False, out=None, backend="auto"):
    """The k largest entries of each row kept (set to 1 with ``one_hot``), the rest 0.
    Ties go to the lower index; NaN ranks above every number (as in np.argmax). One
    column (P(positive), k = 1) is kept; with ``one_hot`` it is :func:`class_labels`'s.

    Reference: :func:`mlsec_kernels.reference.output.top_k`.
    """
    return _run(p, ((_TOPK, k, one_hot),), out, backend)


def class_labels(p, *, out=None, backend="auto"):
    """One-hot of each row's argmax (first index on ties), right for batches (ART's
    ClassLabels marks every row's argmax column in every row). One column (P(positive)):
    1 where p > 1/2, ART's rule (1/2 and NaN give 0).

    Reference: :func:`mlsec_kernels.reference.output.class_labels`.
    """
    return _run(p, ((_CL,),), out, backend)
