"""Every public op as a ``torch.library.custom_op`` in the ``mlsec`` namespace.

Each op is functional (allocates its output, mutates nothing), runs on CPU and CUDA
tensors through the NumPy-compatible API (CUDA on the caller's current stream), and has
a fake implementation (shape and dtype only), so a model calling them traces under
``torch.compile(fullgraph=True)``. Randomised ops take a ``key``: an int64 CPU tensor
``[seed, substream]`` (seeds and substreams are 64-bit unsigned, stored as their int64
bit patterns; :func:`key` builds one), a tensor rather than two ints so that a module can
advance its substream inside a compiled graph without recompiling.
"""

from __future__ import annotations

import math

import torch

import mlsec_kernels as mk
from mlsec_kernels import output as _out

_U64 = (1 << 64) - 1
_INF = math.inf


def key(seed: int, substream: int = 0) -> torch.Tensor:
    """The ``key`` tensor of a randomised op: ``[seed, substream]`` as int64 bit patterns."""
    s, u = (mk.rng.check_u64(v, n) for v, n in ((seed, "seed"), (substream, "substream")))
    return torch.tensor([s - (1 << 64) if s >> 63 else s, u - (1 << 64) if u >> 63 else u], dtype=torch.int64)


def _gen(k: torch.Tensor) -> mk.Generator:
    if k.dtype != torch.int64 or k.shape != (2,):
        raise ValueError(f"key must be an int64 tensor of shape (2,) [seed, substream], got {k.dtype} {tuple(k.shape)}")
    seed, sub = (int(v) & _U64 for v in k.tolist())
    return mk.Generator(seed, substream=sub)


def _clip(lo, hi):
    return None if lo == -_INF and hi == _INF else (lo, hi)


def _like(x, *args):
    return torch.empty_like(x, memory_format=torch.contiguous_format)


def _op(name, fake=_like):
    """Define mlsec::<name> from a typed function, with `fake` as its fake implementation."""

    def deco(fn):
        op = torch.library.custom_op(f"mlsec::{name}", fn, mutates_args=())
        op.register_fake(fake)
        return op

    return deco


# perturbation
@_op("fgsm")
def fgsm(x: torch.Tensor, grad: torch.Tensor, eps: float, targeted: bool, lo: float, hi: float) -> torch.Tensor:
    return mk.fgsm(x, grad, eps, targeted=targeted, clip=_clip(lo, hi))


@_op("project")
def project(delta: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    return mk.project(delta, eps, norm=norm)


@_op("pgd_step")
def pgd_step(
    x: torch.Tensor,
    x0: torch.Tensor,
    grad: torch.Tensor,
    step: float,
    eps: float,
    norm: str,
    targeted: bool,
    lo: float,
    hi: float,
    l1_sparsity: float,
) -> torch.Tensor:
    return mk.pgd_step(
        x, x0, grad, step, eps, norm=norm, targeted=targeted, clip=_clip(lo, hi), l1_sparsity=l1_sparsity
    )


@_op("random_start")
def random_start(
    x0: torch.Tensor, eps: float, norm: str, key: torch.Tensor, lo: float, hi: float, sample_start: int = 0
) -> torch.Tensor:
    return mk.random_start(x0, eps, norm=norm, seed=_gen(key), clip=_clip(lo, hi), sample_start=sample_start)


# the stream as tensors
def _fill(fn, shape, key, offset, dtype, device):
    out = torch.empty(shape, dtype=dtype, device=device)
    g = _gen(key)
    fn(shape, seed=g.seed, substream=g.next_substream(), offset=offset, out=out)
    return out


def _fake_fill(shape, key, offset, dtype, device):
    return torch.empty(shape, dtype=dtype, device=device)


@_op("uniform", _fake_fill)
def uniform(shape: list[int], key: torch.Tensor, offset: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return _fill(mk.rng.uniform, shape, key, offset, dtype, device)


@_op("normal", _fake_fill)
def normal(shape: list[int], key: torch.Tensor, offset: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return _fill(mk.rng.normal, shape, key, offset, dtype, device)


@_op("random_raw", lambda shape, key, offset, device: torch.empty(shape, dtype=torch.uint32, device=device))
def random_raw(shape: list[int], key: torch.Tensor, offset: int, device: torch.device) -> torch.Tensor:
    return _fill(mk.rng.random_raw, shape, key, offset, torch.uint32, device)


# squeezers
@_op("bit_depth")
def bit_depth(x: torch.Tensor, bits: int, lo: float, hi: float) -> torch.Tensor:
    return mk.bit_depth(x, bits, clip=(lo, hi))


@_op("median_filter")
def median_filter(x: torch.Tensor, h: int, w: int, layout: str, mode: str) -> torch.Tensor:
    return mk.median_filter(x, (h, w), layout=layout, mode=mode)


@_op("non_local_means")
def non_local_means(x: torch.Tensor, h: float, template_size: int, search_size: int, layout: str) -> torch.Tensor:
    return mk.non_local_means(x, h=h, template_size=template_size, search_size=search_size, layout=layout)


# randomised transforms
@_op("gaussian_noise")
def gaussian_noise(
    x: torch.Tensor, sigma: float, key: torch.Tensor, lo: float, hi: float, sample_start: int = 0
) -> torch.Tensor:
    return mk.gaussian_noise(x, sigma, seed=_gen(key), clip=_clip(lo, hi), sample_start=sample_start)


@_op("uniform_noise")
def uniform_noise(
    x: torch.Tensor, eps: float, key: torch.Tensor, lo: float, hi: float, sample_start: int = 0
) -> torch.Tensor:
    return mk.uniform_noise(x, eps, seed=_gen(key), clip=_clip(lo, hi), sample_start=sample_start)


def _fake_resize(x, out_size, min_size, key, interpolation, per_sample, layout, sample_start=0):
    n, a, b, c = x.shape
    shape = (n, a, out_size, out_size) if layout == "NCHW" else (n, out_size, out_size, c)
    return x.new_empty(shape)


@_op("random_resize_pad", _fake_resize)
def random_resize_pad(
    x: torch.Tensor,
    out_size: int,
    min_size: int,
    key: torch.Tensor,
    interpolation: str,
    per_sample: bool,
    layout: str,
    sample_start: int = 0,
) -> torch.Tensor:
    """``min_size`` 0 means the default (the input's larger side)."""
    return mk.random_resize_pad(
        x,
        out_size,
        min_size=min_size or None,
        seed=_gen(key),
        interpolation=interpolation,
        per_sample=per_sample,
        layout=layout,
        sample_start=sample_start,
    )


@_op("pixel_deflection")
def pixel_deflection(
    x: torch.Tensor, deflections: int, window: int, key: torch.Tensor, layout: str, sample_start: int = 0
) -> torch.Tensor:
    return mk.pixel_deflection(x, deflections, window, seed=_gen(key), layout=layout, sample_start=sample_start)


# output post-processors (one op per step: a Guard is bit for bit its steps one by one)
@_op("reverse_sigmoid")
def reverse_sigmoid(p: torch.Tensor, beta: float, gamma: float) -> torch.Tensor:
    return _out.reverse_sigmoid(p, beta=beta, gamma=gamma)


@_op("output_gaussian_noise")
def output_gaussian_noise(
    p: torch.Tensor, scale: float, key: torch.Tensor, renormalize: str, sample_start: int = 0
) -> torch.Tensor:
    renorm = {"auto": "auto", "true": True, "false": False}[renormalize]
    return _out.gaussian_noise(p, scale=scale, seed=_gen(key), renormalize=renorm, sample_start=sample_start)


@_op("round")
def round_(p: torch.Tensor, decimals: int) -> torch.Tensor:
    return _out.round(p, decimals=decimals)


@_op("high_confidence")
def high_confidence(p: torch.Tensor, cutoff: float) -> torch.Tensor:
    return _out.high_confidence(p, cutoff=cutoff)


@_op("top_k")
def top_k(p: torch.Tensor, k: int, one_hot: bool) -> torch.Tensor:
    return _out.top_k(p, k, one_hot=one_hot)


@_op("class_labels")
def class_labels(p: torch.Tensor) -> torch.Tensor:
    return _out.class_labels(p)


OPS = {
    name: getattr(torch.ops.mlsec, name)
    for name in (
        "fgsm project pgd_step random_start uniform normal random_raw bit_depth median_filter non_local_means "
        "gaussian_noise uniform_noise random_resize_pad pixel_deflection reverse_sigmoid output_gaussian_noise "
        "round high_confidence top_k class_labels"
    ).split()
}
