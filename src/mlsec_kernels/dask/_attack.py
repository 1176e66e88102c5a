"""Attack drivers of :mod:`mlsec_kernels.attacks` over a dask array of inputs, blockwise,
reproducible under any chunking.

A driver without randomness (``fgsm``; ``pgd`` with ``random_start=False``) runs once per
block: each sample's result depends only on that sample. The random drivers are not
addressable by sample: ``pgd``'s restarts draw for the samples still running, and
``square_attack`` and ``simba`` draw batch-level words and compact the samples still
active, so their draws depend on the batch. These run one sample at a time, sample i with
its own ``Generator(seed, substream=s + (i << 32))`` (s: the call's substream), which gives
the same result whatever block the sample lands in. The cost: model calls of batch 1 for
those drivers.
"""

from __future__ import annotations

import inspect

import dask
import dask.array as da
import numpy as np

from ..attacks import AttackResult
from ..attacks import pgd as _pgd
from ..rng import Generator
from ._blocks import check_array, fixed_seed, one_chunk, sample_axes
from ._cluster import cached_model, model_token

_U64 = 1 << 64


def sample_generator(seed, substream, i):
    """The Generator of sample i of the dataset: 2**32 substreams of its own."""
    return Generator(seed, substream=(substream + (i << 32)) % _U64)


def _call(driver, models, x, y, kw):
    if isinstance(models, dict):  # the driver's callables by name, e.g. loss_grad= and predict=
        return driver(x=x, y=y, **models, **kw)
    return driver(models, x, y, **kw)


def _block(driver, token, factory, x, y, start, seed, substream, kw, per):
    models = cached_model(token, factory)
    if seed is None:
        r = _call(driver, models, x, y, dict(kw, **per))
        return r.x_adv, r.success, np.asarray(r.queries)
    parts = []
    for i in range(x.shape[0]):
        g = sample_generator(seed, substream, start + i)
        one = {k: v[i : i + 1] for k, v in per.items()}
        parts.append(_call(driver, models, x[i : i + 1], y[i : i + 1], dict(kw, seed=g, **one)))
    xp = np if isinstance(x, np.ndarray) else __import__("cupy")
    known = all(p.success is not None for p in parts)
    success = np.concatenate([np.asarray(p.success).reshape(-1) for p in parts]) if known and parts else None
    if not parts:
        return x.copy(), np.zeros(0, bool), np.zeros(0, np.int64)
    return xp.concatenate([p.x_adv for p in parts]), success, np.concatenate([p.queries for p in parts])


def _success(res):
    if res[1] is None:
        raise ValueError(
            "the attack driver could not tell success: give it predict=, or a loss_grad that returns scores"
        )
    return np.asarray(res[1], dtype=bool)


def _random(driver, kw):
    params = inspect.signature(driver).parameters
    if "seed" not in params:
        if kw.get("seed") is not None:
            raise TypeError(f"{getattr(driver, '__name__', 'the driver')} takes no seed")
        return False
    return not (driver is _pgd and not kw.get("random_start", True))


def _per_sample(v, n):
    """Keyword arrays of one value per sample (eps, step, ...): NumPy or dask, shape (N,)."""
    if isinstance(v, da.Array) or (isinstance(v, np.ndarray) and v.ndim == 1 and v.shape[0] == n > 1):
        if v.ndim != 1 or v.shape[0] != n:
            raise ValueError(f"a per-sample keyword array must have shape ({n},), got {v.shape}")
        return True
    return False


def attack(attack, model_factory, x, y, **kw):
    """Runs the attack driver ``attack`` (e.g. :func:`mlsec_kernels.attacks.pgd`,
    ``square_attack``, ``simba``, ``fgsm``) over the dask array ``x`` (N, ...) with labels
    ``y`` (N,), one task per batch chunk (samples must be whole chunks). Returns an
    :class:`~mlsec_kernels.attacks.AttackResult` of dask arrays: ``x_adv`` chunked like x,
    ``success`` (bool) and ``queries`` (int64) per sample. The same for any chunking.

    ``model_factory()`` builds the driver's model argument (``loss_grad`` for fgsm/pgd,
    ``predict`` for square_attack/simba), or a dict of them by name (e.g. ``{"loss_grad":
    lg, "predict": pr}``); each worker process builds it once. ``kw`` goes to the driver;
    arrays of one value per sample (``eps``, ``step``) are split with the blocks.
    ``seed``: an int, a Generator (one substream for the run) or None (a secret seed).
    Computing ``success`` raises if the driver could not tell it (white-box without scores).
    """
    if not callable(attack):
        raise TypeError(f"attack must be an attack driver (a callable), got {type(attack).__name__}")
    x = check_array(x, "x")
    one_chunk(x, sample_axes(x), "x", "an attack runs on whole samples")
    n, sizes = x.shape[0], x.chunks[0]
    yd = y if isinstance(y, da.Array) else da.from_array(np.asarray(y))
    if yd.ndim != 1 or yd.shape[0] != n:
        raise ValueError(f"y must hold one label per sample ({n}), got shape {yd.shape}")
    token = model_token(model_factory)
    random = _random(attack, kw)
    seed, sub = fixed_seed(kw.pop("seed", None)) if random else (None, 0)
    per = {k: kw.pop(k) for k in [k for k, v in kw.items() if _per_sample(v, n)]}
    per = {
        k: (v if isinstance(v, da.Array) else da.from_array(v)).rechunk((sizes,)).to_delayed() for k, v in per.items()
    }
    xs, ys = x.to_delayed().reshape(-1), yd.rechunk((sizes,)).to_delayed()
    xa, ok, qs, start = [], [], [], 0
    run = dask.delayed(_block, pure=True, nout=3)
    for b, size in enumerate(sizes):
        pb = {k: v[b] for k, v in per.items()}
        res = run(attack, token, model_factory, xs[b], ys[b], start, seed, sub, kw, pb)
        xa.append(da.from_delayed(res[0], (size,) + x.shape[1:], dtype=x.dtype, meta=x._meta))
        ok.append(da.from_delayed(dask.delayed(_success, pure=True)(res), (size,), dtype=bool))
        qs.append(da.from_delayed(res[2], (size,), dtype=np.int64))
        start += size
    return AttackResult(da.concatenate(xa), da.concatenate(ok), da.concatenate(qs))
