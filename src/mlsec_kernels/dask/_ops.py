"""The batch ops of mlsec_kernels on dask arrays: the perturbation kernels, bit_depth and
the randomised transforms, one in-memory call per block."""

from __future__ import annotations

from .. import perturb as _perturb
from .. import rng as _rng
from .. import squeeze as _squeeze
from .. import transforms as _transforms
from .._arrays import check_norm
from ._blocks import (
    blockwise,
    check_array,
    fixed_seed,
    name_for,
    no_out,
    one_chunk,
    per_sample,
    probe,
    sample_axes,
    seeded,
)

_WHOLE = "the op reads every value of a sample together"
_STREAM = "each sample's draws are addressed by its position in the batch"


def _arrays(names, values, like=None):
    """The array arguments, checked to be dask arrays of one shape, chunked like the first."""
    out = []
    for n, v in zip(names, values):
        v = check_array(v, n)
        if like is not None and v.shape != like.shape:
            raise ValueError(f"{n} must have the shape of {names[0]} {like.shape}, got {v.shape}")
        if like is None:
            like = v
        elif v.chunks != like.chunks:  # blockwise pairs blocks by index: one chunking for all
            v = v.rechunk(like.chunks)
        out.append(v)
    return out


def _elementwise_or_whole(norm, names, arrays):
    """Samples must be whole blocks when the norm reduces over them (2, 1)."""
    if check_norm(norm) != 0:
        for n, a in zip(names, arrays):
            one_chunk(a, sample_axes(a), n, f"norm={norm!r} reduces over each sample")


def fgsm(x, grad, eps, *, targeted=False, clip=(0.0, 1.0), out=None, backend="auto"):
    """:func:`mlsec_kernels.fgsm` on dask arrays, blockwise (elementwise: any chunking)."""
    no_out(out)
    x, grad = _arrays(("x", "grad"), (x, grad))
    args, kw = (x, grad, per_sample(eps, x, "eps")), dict(targeted=targeted, clip=clip, backend=backend)
    return blockwise(_perturb.fgsm, x, args, kw, arrays=(0, 1), meta=probe(_perturb.fgsm, x, args, kw, (0, 1)))


def pgd_step(
    x,
    x0,
    grad,
    step,
    eps,
    *,
    norm="inf",
    targeted=False,
    clip=(0.0, 1.0),
    l1_sparsity=0.99,
    projection="exact",
    out=None,
    backend="auto",
):
    """:func:`mlsec_kernels.pgd_step` on dask arrays: any chunking for ``norm="inf"``;
    norms 2 and 1 reduce over each sample, so the sample axes must be one chunk."""
    no_out(out)
    names = ("x", "x0", "grad")
    arrays = _arrays(names, (x, x0, grad))
    _elementwise_or_whole(norm, names, arrays)
    x = arrays[0]
    args = (*arrays, per_sample(step, x, "step"), per_sample(eps, x, "eps"))
    kw = dict(norm=norm, targeted=targeted, clip=clip, l1_sparsity=l1_sparsity, projection=projection, backend=backend)
    meta = probe(_perturb.pgd_step, x, args, kw, (0, 1, 2))
    return blockwise(_perturb.pgd_step, x, args, kw, arrays=(0, 1, 2), meta=meta)


def project(delta, eps, *, norm="inf", lo=None, hi=None, out=None, backend="auto"):
    """:func:`mlsec_kernels.project` on dask arrays; ``lo``/``hi`` are None, numbers or
    dask arrays shaped like ``delta``. Norms 2 and 1 need each sample in one chunk."""
    no_out(out)
    names, values = ["delta"], [delta]
    for n, v in (("lo", lo), ("hi", hi)):
        if v is not None and not isinstance(v, (int, float)):
            names.append(n)
            values.append(v)
    arrays = _arrays(names, values)
    _elementwise_or_whole(norm, names, arrays)
    delta = arrays[0]
    bounds = dict(zip(names[1:], arrays[1:]))
    lo, hi = bounds.get("lo", lo), bounds.get("hi", hi)

    def fn(d, e, lo, hi, **kw):
        return _perturb.project(d, e, lo=lo, hi=hi, **kw)

    args = (delta, per_sample(eps, delta, "eps"), lo, hi)
    full = tuple(i for i in (0, 2, 3) if args[i] is not None and not isinstance(args[i], (int, float)))
    kw = dict(norm=norm, backend=backend)
    return blockwise(fn, delta, args, kw, arrays=full, meta=probe(fn, delta, args, kw, full))


def _random(fn, op, x, args, kw, seed, **map_kw):
    """A randomised op: samples whole in their blocks, ``seed`` fixed now (or already a
    (seed, substream) pair), each block told its first sample's global index
    (``sample_start``)."""
    one_chunk(x, sample_axes(x), "x", _STREAM)
    key, sub = seed if isinstance(seed, tuple) else fixed_seed(seed)
    call = seeded(fn, key, sub)
    meta = probe(call, x, args, dict(kw, sample_start=0))
    name = name_for(op, map_kw.pop("secret", seed is None))
    return blockwise(call, x, args, kw, start="sample_start", name=name, meta=meta, **map_kw)


def random_start(x0, eps, *, norm="inf", seed=None, clip=(0.0, 1.0), out=None, backend="auto"):
    """:func:`mlsec_kernels.random_start` on dask arrays, the same bits as the in-memory
    call on the whole batch under any batch chunking (samples must be one chunk each)."""
    no_out(out)
    x0 = check_array(x0, "x0")
    kw = dict(norm=norm, clip=clip, backend=backend)
    return _random(_perturb.random_start, "random_start", x0, (x0, per_sample(eps, x0, "eps")), kw, seed)


def bit_depth(x, bits, *, clip=None, out=None, backend="auto"):
    """:func:`mlsec_kernels.bit_depth` on dask arrays (elementwise: any chunking)."""
    no_out(out)
    x = check_array(x, "x")
    args, kw = (x, bits), dict(clip=clip, backend=backend)
    return blockwise(_squeeze.bit_depth, x, args, kw, meta=probe(_squeeze.bit_depth, x, args, kw))


def gaussian_noise(x, sigma, *, seed=None, clip=None, out=None, backend="auto"):
    """:func:`mlsec_kernels.gaussian_noise` on dask arrays, chunking-independent."""
    no_out(out)
    x = check_array(x, "x")
    kw = dict(clip=clip, backend=backend)
    return _random(_transforms.gaussian_noise, "gaussian_noise", x, (x, per_sample(sigma, x, "sigma")), kw, seed)


def uniform_noise(x, eps, *, seed=None, clip=None, out=None, backend="auto"):
    """:func:`mlsec_kernels.uniform_noise` on dask arrays, chunking-independent."""
    no_out(out)
    x = check_array(x, "x")
    kw = dict(clip=clip, backend=backend)
    return _random(_transforms.uniform_noise, "uniform_noise", x, (x, per_sample(eps, x, "eps")), kw, seed)


def pixel_deflection(x, deflections, window, *, seed=None, layout="NCHW", out=None, backend="auto"):
    """:func:`mlsec_kernels.pixel_deflection` on dask arrays, chunking-independent."""
    no_out(out)
    x = check_array(x, "x")
    kw = dict(layout=layout, backend=backend)
    return _random(_transforms.pixel_deflection, "pixel_deflection", x, (x, deflections, window), kw, seed)


def _params(x, out_size, *, seed, sample_start, min_size=None, per_sample=True, layout="NCHW", **_):
    """The block's (n, 3) draws alone, as random_resize_pad makes them (its call on the same
    block has checked the arguments): no images are resampled for them."""
    h, w = (x.shape[2], x.shape[3]) if layout == "NCHW" else (x.shape[1], x.shape[2])
    key, sub = _rng.seed_and_substream(seed)
    lo = max(h, w) if min_size is None else min_size
    return _transforms.resize_pad_params(len(x), lo, out_size, key, sub, bool(per_sample), sample_start)


def random_resize_pad(
    x,
    out_size,
    *,
    min_size=None,
    seed=None,
    interpolation="nearest",
    per_sample=True,
    layout="NCHW",
    return_params=False,
    out=None,
    backend="auto",
):
    """:func:`mlsec_kernels.random_resize_pad` on dask arrays, chunking-independent.
    ``return_params=True`` adds the (N, 3) draws as a second lazy array, which draws each
    block's parameters again (three words per image; the images are not resampled)."""
    no_out(out)
    x = check_array(x, "x")
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of images with 4 axes ({layout}), got shape {x.shape}")
    kw = dict(min_size=min_size, interpolation=interpolation, per_sample=per_sample, layout=layout, backend=backend)
    fixed, secret = fixed_seed(seed), seed is None  # both arrays draw from the same stream
    sq = ((out_size,), (out_size,))
    tail = ((x.shape[1],), *sq) if layout == "NCHW" else (*sq, (x.shape[3],))
    args, chunks = (x, out_size), (x.chunks[0], *tail)
    imgs = _random(_transforms.random_resize_pad, "random_resize_pad", x, args, kw, fixed, secret=secret, chunks=chunks)
    if not return_params:
        return imgs
    params = _random(
        _params, "resize_pad_params", x, args, kw, fixed, secret=secret, chunks=(x.chunks[0], (3,)), drop_axis=[2, 3]
    )
    return imgs, params
