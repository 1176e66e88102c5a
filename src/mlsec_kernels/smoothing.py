"""Randomized smoothing (Cohen, Rosenfeld & Kolter, "Certified adversarial robustness via
randomized smoothing", ICML 2019): prediction and L2 certification of the smoothed
classifier g(x) = argmax_c P(f(x + sigma * z) = c), z ~ N(0, I).

``model`` is any callable from a batch (the caller's array type: NumPy, CuPy, torch) to
logits (batch, classes) or integer labels (batch,) (then pass ``num_classes``); torch
models run under ``torch.no_grad()``. Noisy copies of one input are written by the noise
kernel (:func:`mlsec_kernels.gaussian_noise`'s) straight into one reusable buffer of
``batch_size`` samples, and votes are counted by a kernel on the data's device, so no
more than a batch of copies is ever in memory.

Draws: a call takes a :class:`mlsec_kernels.rng.Generator` (``seed`` an int: a fresh
Generator of that seed; None: an unpredictable one); input i's noise comes from its own
substreams, taken in input order, one per sampling pass (certify: selection then
estimation; predict: one). Sample s of a pass is stream elements s*d .. s*d + d - 1 of
its substream (d = the input's size), whatever the batch size (docs/rng.md).

``sample_start=a`` (an int seed or None only) says that ``x`` holds inputs a, a+1, ... of a
larger batch: input i then takes the substreams of input a+i (certify: 2(a+i) and
2(a+i)+1; predict: a+i), so ``certify(model, x[a:b], ..., seed=k, sample_start=a)`` is
``certify(model, x, ..., seed=k)`` restricted to [a, b), bit for bit, however a dataset is
split (:func:`mlsec_kernels.dask.certify` runs one block per task this way).
"""

from __future__ import annotations

import contextlib
import math
import operator

import numpy as np

from . import _arrays
from ._arrays import Arr, Call
from ._progress import Progress
from ._stats import binom_test_half, clopper_pearson_lower, norm_ppf
from .rng import Generator

ABSTAIN = -1


def _positive_int(v, name):
    try:
        v = operator.index(v)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {type(v).__name__}") from None
    if v < 1:
        raise ValueError(f"{name} must be >= 1, got {v}")
    return v


def _check(sigma, alpha, batch_size, num_classes):
    try:
        s = float(sigma)
    except (TypeError, ValueError):
        raise TypeError(f"sigma must be a number, got {type(sigma).__name__}") from None
    if not (s >= 0.0) or math.isinf(s):
        raise ValueError(f"sigma must be finite and >= 0, got {s}")
    a = float(alpha)
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {a}")
    _positive_int(batch_size, "batch_size")
    if num_classes is not None:
        _positive_int(num_classes, "num_classes")
    return s, a


class _Sampler:
    """Votes of the model on noisy copies of the inputs, one reusable batch buffer."""

    def __init__(self, model, x, sigma, batch_size, num_classes, backend):
        self.c = Call(backend, x=x)
        self.model, self.sigma, self.k = model, sigma, num_classes
        self.x = self.c.views[0]
        self.d = math.prod(self.c.shape[1:])
        bs = max(1, int(batch_size))
        self.batch, self.batch_view = _arrays.empty(self.c.first, (bs,) + self.c.shape[1:], self.c.dtype)
        self.noise = self.c.kernel("noise")
        self.vote = self.c.kernel("class_counts", "class_counts")
        self.counts = None
        torch = self.c.first.lib == "torch"
        self.grad_off = (lambda: __import__("torch").no_grad()) if torch else contextlib.nullcontext

    def _counts_buffer(self, pred):
        if self.k is None:
            if pred.dtype.kind != "f" or len(pred.shape) != 2:
                raise ValueError("the model returned labels; pass num_classes")
            self.k = pred.shape[1]
        if self.counts is None:
            self.counts, self.counts_view = _arrays.empty(self.c.first, (self.k + 1,), np.int64)
        self.counts_view[...] = 0

    def votes(self, i, n, seed, substream):
        """Class counts (int64, host) of n noisy copies of input i."""
        xi = self.x[i : i + 1]
        first = True
        with self.grad_off():
            for start in range(0, n, self.batch_view.shape[0]):
                m = min(self.batch_view.shape[0], n - start)
                self.noise(
                    xi, self.sigma, "normal", seed, substream, start * self.d, -math.inf, math.inf, self.batch_view[:m]
                )
                pred = Arr(self.model(self.batch[:m]), "the model's output")
                if first:
                    self._counts_buffer(pred)
                    first = False
                self.vote(pred.contiguous(), self.k, self.counts_view)
        counts = _arrays._to_host_values(self.counts, "counts").astype(np.int64)
        if counts[-1]:
            raise ValueError(f"the model returned labels outside [0, num_classes={self.k})")
        return counts[:-1]


def _generator(seed, sample_start, passes):
    """The call's Generator: input i of x takes its next ``passes`` substreams, in order.
    With sample_start=a and an int seed it starts at input a's substream, passes * a."""
    try:
        a = operator.index(sample_start)
    except TypeError:
        raise TypeError(f"sample_start must be an int >= 0, got {type(sample_start).__name__}") from None
    if a < 0:
        raise ValueError(f"sample_start must be >= 0, got {a}")
    if isinstance(seed, Generator):
        if a:
            raise ValueError(
                "sample_start needs an int seed (or None): a Generator hands out its next substreams "
                "in input order; pass Generator(seed, substream=start) positioned at the first input's instead"
            )
        return seed
    return Generator(seed, substream=passes * a)


@contextlib.contextmanager
def _bar(total, show):
    """A progress bar over inputs: drawn when stderr is a terminal (show=None) or
    when asked to (show=True)."""
    bar = Progress(total)
    if show is not None:
        bar.live = bool(show)
    try:
        yield bar
    finally:
        bar.close()


def predict(
    model,
    x,
    sigma,
    n,
    alpha=0.001,
    batch_size=1000,
    seed=None,
    *,
    num_classes=None,
    progress=None,
    sample_start=0,
    backend="auto",
):
    """Cohen et al.'s PREDICT for each input of the batch ``x``: the top class of n noisy
    votes, or ``ABSTAIN`` (-1) when a two-sided binomial test of the top two counts
    against p = 1/2 gives a p-value above ``alpha`` (then the probability of returning a
    class other than g(x) is at most alpha). Returns int64 labels (N,) on the host.
    ``progress``: a bar over inputs (None: when stderr is a terminal). ``sample_start``:
    see the module's docstring.
    """
    sigma, alpha = _check(sigma, alpha, batch_size, num_classes)
    n = _positive_int(n, "n")
    gen = _generator(seed, sample_start, 1)
    s = _Sampler(model, x, sigma, batch_size, num_classes, backend)
    out = np.empty(s.c.n, np.int64)
    with _bar(s.c.n, progress) as bar:
        for i in range(s.c.n):
            counts = s.votes(i, n, gen.seed, gen.next_substream())
            top2 = np.argsort(-counts, kind="stable")[:2]
            c1, c2 = int(counts[top2[0]]), int(counts[top2[1]]) if len(top2) > 1 else 0
            out[i] = top2[0] if binom_test_half(c1, c1 + c2) <= alpha else ABSTAIN
            bar.advance(1, f"predict {i + 1}")
    return out


def certify(
    model,
    x,
    sigma,
    n0,
    n,
    alpha=0.001,
    batch_size=1000,
    seed=None,
    *,
    num_classes=None,
    progress=None,
    sample_start=0,
    backend="auto",
):
    """Cohen et al.'s CERTIFY for each input of the batch ``x``.

    n0 selection votes pick the guess c_A; n estimation votes give its count n_A; the
    one-sided (1 - alpha) Clopper-Pearson lower bound p_A = Beta(alpha; n_A, n - n_A + 1)
    certifies g(x') = c_A for every ||x' - x||_2 < sigma * Phi^-1(p_A) when p_A >= 1/2;
    otherwise the input is ``ABSTAIN`` (-1) with radius 0. Returns (labels int64 (N,),
    radii float64 (N,)) on the host. ``progress`` and ``sample_start`` as in :func:`predict`.
    """
    sigma, alpha = _check(sigma, alpha, batch_size, num_classes)
    n0, n = _positive_int(n0, "n0"), _positive_int(n, "n")
    gen = _generator(seed, sample_start, 2)
    s = _Sampler(model, x, sigma, batch_size, num_classes, backend)
    labels, radii = np.empty(s.c.n, np.int64), np.zeros(s.c.n)
    with _bar(s.c.n, progress) as bar:
        for i in range(s.c.n):
            guess = int(np.argmax(s.votes(i, n0, gen.seed, gen.next_substream())))
            n_a = int(s.votes(i, n, gen.seed, gen.next_substream())[guess])
            p_a = clopper_pearson_lower(n_a, n, alpha)
            if p_a < 0.5:
                labels[i] = ABSTAIN
            else:
                labels[i], radii[i] = guess, sigma * norm_ppf(p_a)
            bar.advance(1, f"certify {i + 1}")
    return labels, radii
