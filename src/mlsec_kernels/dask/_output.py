"""The output post-processors of :mod:`mlsec_kernels.output` and ``squeeze_score`` on dask
arrays of scores (N, C): rows are independent, so any chunking of the batch axis, and the
class axis in one chunk (every op reads a whole row: renormalisation, top-k, argmax)."""

from __future__ import annotations

from .. import output as _output
from .. import squeeze as _squeeze
from ._blocks import blockwise, check_array, fixed_seed, name_for, no_out, one_chunk, probe, seeded


def _scores(p, name="p"):
    p = check_array(p, name)
    if p.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N, C), got shape {p.shape}")
    one_chunk(p, (1,), name, "the post-processors read whole rows")
    return p


def _rows(fn, p, kw, **extra):
    no_out(kw.pop("out"))
    p = _scores(p)
    return blockwise(fn, p, (p,), kw, meta=probe(fn, p, (p,), kw), **extra)


def reverse_sigmoid(p, *, beta=1.0, gamma=0.1, out=None, backend="auto"):
    """:func:`mlsec_kernels.output.reverse_sigmoid` on a dask array of scores."""
    return _rows(_output.reverse_sigmoid, p, dict(beta=beta, gamma=gamma, out=out, backend=backend))


def round(p, *, decimals=3, out=None, backend="auto"):  # noqa: A001 (the NumPy name)
    """:func:`mlsec_kernels.output.round` on a dask array of scores."""
    return _rows(_output.round, p, dict(decimals=decimals, out=out, backend=backend))


def high_confidence(p, *, cutoff=0.25, out=None, backend="auto"):
    """:func:`mlsec_kernels.output.high_confidence` on a dask array of scores."""
    return _rows(_output.high_confidence, p, dict(cutoff=cutoff, out=out, backend=backend))


def top_k(p, k, *, one_hot=False, out=None, backend="auto"):
    """:func:`mlsec_kernels.output.top_k` on a dask array of scores."""
    fn = lambda q, **kw: _output.top_k(q, k, **kw)
    return _rows(fn, p, dict(one_hot=one_hot, out=out, backend=backend))


def class_labels(p, *, out=None, backend="auto"):
    """:func:`mlsec_kernels.output.class_labels` on a dask array of scores."""
    return _rows(_output.class_labels, p, dict(out=out, backend=backend))


def gaussian_noise(p, *, scale=0.2, seed=None, renormalize="auto", out=None, backend="auto"):
    """:func:`mlsec_kernels.output.gaussian_noise` on a dask array of scores, the same bits
    as the in-memory call under any chunking (entry (r, j) draws stream element r*C + j of
    the call's substream, r the global row). ``seed=None`` draws one secret seed now, for
    the whole lazy array."""
    no_out(out)
    p = _scores(p)
    key, sub = fixed_seed(seed)
    call = seeded(_output.gaussian_noise, key, sub)
    kw = dict(scale=scale, renormalize=renormalize, backend=backend)
    meta = probe(call, p, (p,), dict(kw, sample_start=0))
    name = name_for("output-gaussian_noise", seed is None)
    return blockwise(call, p, (p,), kw, start="sample_start", name=name, meta=meta)


def squeeze_score(p, *squeezed):
    """:func:`mlsec_kernels.squeeze_score` on dask arrays of predictions (N, K): float64 (N,)."""
    if not squeezed:
        raise ValueError("squeeze_score needs at least one squeezed prediction")
    p = _scores(p)
    qs = []
    for i, q in enumerate(squeezed):
        q = _scores(q, f"squeezed[{i}]")
        if q.shape != p.shape:
            raise ValueError(f"squeezed[{i}] must have the shape of p: {q.shape} vs {p.shape}")
        qs.append(q.rechunk(p.chunks))
    args = (p, *qs)
    full = tuple(range(len(args)))
    meta = probe(_squeeze.squeeze_score, p, args, {}, full)
    return blockwise(_squeeze.squeeze_score, p, args, {}, arrays=full, meta=meta, drop_axis=1)
