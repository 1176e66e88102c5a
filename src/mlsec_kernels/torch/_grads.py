"""Exact backward passes of the custom ops that have one, registered with
``torch.library.register_autograd``: the median filter (the gradient goes to the selected
element), random resize-and-pad (the adjoint of the interpolation, with the forward's
random parameters) and additive noise (identity, zero where the clip bound was hit).
Everything else is non-differentiable: a module uses BPDA (:class:`Straight`) there."""

from __future__ import annotations

import numpy as np
import torch

from mlsec_kernels import transforms as _tf
from mlsec_kernels.reference.transforms import resize_taps

from . import _ops


class Straight(torch.autograd.Function):
    """BPDA (Athalye, Carlini & Wagner, ICML 2018): the forward value is ``y`` (a defence
    applied to ``x``), the backward pass treats the defence as the identity."""

    @staticmethod
    def forward(x, y):
        return y.view_as(y)

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, g):
        return g, None


# median filter: d out(p) / d x(q) = 1 for the window element q the median selected
def _pad_index(n, k, mode, device):
    """Source index of each position of the axis padded by k//2 before and k-1-k//2 after
    (SciPy's anchoring); reflect repeats the edge sample, mirror does not."""
    p = torch.arange(-(k // 2), n + k - 1 - k // 2, device=device)
    e = 1 if mode == "reflect" else 0
    p = torch.where(p < 0, -p - e, p)
    return torch.where(p >= n, 2 * n - 2 + e - p, p)


def _planes(t, layout):
    """(B, H, W) planes of a (N, [T,] C, H, W) or (N, [T,] H, W, C) tensor, and the inverse."""
    if layout == "NCHW":
        return t.reshape(-1, *t.shape[-2:]), lambda p: p.reshape(t.shape)
    moved = t.movedim(-1, -3)
    return moved.reshape(-1, *moved.shape[-2:]), lambda p: p.reshape(moved.shape).movedim(-3, -1)


def median_backward_values(x, g, h, w, layout, mode):
    """The gradient of median_filter at x for the output gradient g: each output's
    gradient goes to the element of rank h*w // 2 of a stable sort of its window (the
    window read row by row), so among tied values the one whose position in that order
    puts it at the median rank gets it. Also returns the selected values (for tests)."""
    xp, back = _planes(x, layout)
    gp, _ = _planes(g, layout)
    b, H, W = xp.shape
    rows = _pad_index(H, h, mode, x.device).unfold(0, h, 1)  # (H, h)
    cols = _pad_index(W, w, mode, x.device).unfold(0, w, 1)  # (W, w)
    win = xp[:, rows[:, None, :, None], cols[None, :, None, :]].reshape(b, H, W, h * w)
    order = torch.sort(win, dim=-1, stable=True).indices[..., (h * w) // 2]
    di, dj = order // w, order % w
    src = rows[torch.arange(H, device=x.device)[:, None], di] * W + cols[torch.arange(W, device=x.device)[None, :], dj]
    dx = torch.zeros(b, H * W, dtype=g.dtype, device=g.device)
    dx.scatter_add_(1, src.reshape(b, -1), gp.reshape(b, -1))
    picked = xp.reshape(b, -1).gather(1, src.reshape(b, -1)).reshape(b, H, W)
    return back(dx), back(picked)


def _median_ctx(ctx, inputs, output):
    ctx.save_for_backward(inputs[0])
    ctx.args = inputs[1:]


def _median_bwd(ctx, g):
    (x,) = ctx.saved_tensors
    return median_backward_values(x, g, *ctx.args)[0], None, None, None, None


_ops.median_filter.register_autograd(_median_bwd, setup_context=_median_ctx)


# random resize-and-pad: the transpose of out = pad(Ay x Ax^T) with the forward's draws
def _taps(n_in, size, interpolation, edge_weight, like):
    i0, i1, a0, a1 = resize_taps(n_in, size, interpolation, edge_weight)
    idx = torch.as_tensor(np.stack([i0, i1]), device=like.device)
    return idx, torch.as_tensor(np.stack([a0, a1]), dtype=like.dtype, device=like.device)


def resize_pad_adjoint(g, in_hw, out_size, min_size, key, interpolation, per_sample, layout, sample_start=0):
    """x's gradient for out's gradient g: each sample's (size, top, left) redrawn from
    the key as the forward drew them, the canvas window cut out and pushed back through
    the interpolation's taps (OpenCV's weights, :func:`reference.transforms.resize_taps`)."""
    gc = g if layout == "NCHW" else g.permute(0, 3, 1, 2)
    n, c = gc.shape[:2]
    h, w = in_hw
    gen = _ops._gen(key)
    params = _tf.resize_pad_params(
        n, min_size or max(h, w), out_size, gen.seed, gen.next_substream(), per_sample, sample_start
    )
    dx = gc.new_zeros(n, c, h, w)
    for r, (size, top, left) in enumerate(params.tolist()):
        win = gc[r, :, top : top + size, left : left + size]
        yi, ya = _taps(h, size, interpolation, False, gc)
        xi, xa = _taps(w, size, interpolation, True, gc)
        t = gc.new_zeros(c, h, size)
        for k in range(2):
            t.index_add_(1, yi[k], win * ya[k][:, None])
        for k in range(2):
            dx[r].index_add_(2, xi[k], t * xa[k])
    return dx if layout == "NCHW" else dx.permute(0, 2, 3, 1)


def _resize_ctx(ctx, inputs, output):
    x, *rest = inputs
    ctx.in_hw = tuple(x.shape[2:]) if rest[5] == "NCHW" else tuple(x.shape[1:3])
    ctx.args = rest


def _resize_bwd(ctx, g):
    return (resize_pad_adjoint(g, ctx.in_hw, *ctx.args),) + (None,) * len(ctx.args)


_ops.random_resize_pad.register_autograd(_resize_bwd, setup_context=_resize_ctx)


# additive noise: out = clip(x + noise), d out / d x = 1 inside the clip range
def _noise_ctx(ctx, inputs, output):
    ctx.lo, ctx.hi = inputs[3], inputs[4]
    clipped = not (ctx.lo == -float("inf") and ctx.hi == float("inf"))
    ctx.save_for_backward(output if clipped else None)


def _noise_bwd(ctx, g):
    (out,) = ctx.saved_tensors
    if out is not None:
        g = torch.where((out > ctx.lo) & (out < ctx.hi), g, torch.zeros_like(g))
    return g, None, None, None, None, None


for _noise in (_ops.gaussian_noise, _ops.uniform_noise):
    _noise.register_autograd(_noise_bwd, setup_context=_noise_ctx)
