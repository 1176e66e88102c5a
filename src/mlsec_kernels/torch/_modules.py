"""Defences as ``nn.Module``s over the ``mlsec::`` custom ops, for adaptive evaluation.

``grad="exact"`` backpropagates through the op's own gradient where it has one (median
filter, random resize-and-pad, additive noise); ``grad="bpda"`` treats the defence as the
identity on the way back (BPDA, Athalye, Carlini & Wagner, ICML 2018). Randomised modules
keep their stream position in an int64 buffer ``[seed, next substream]``: forward call i
uses substream ``start + i`` of the seed (the numbering of :class:`mlsec_kernels.Generator`),
advanced inside the graph so that ``torch.compile(fullgraph=True)`` traces it, and saved
with the ``state_dict``.
"""

from __future__ import annotations

import torch
from torch import nn

import mlsec_kernels as mk
from mlsec_kernels import output as _out

from . import _ops
from ._grads import Straight

_GRADS = ("bpda", "exact")


class _Defence(nn.Module):
    _has_exact, _has_bpda = False, True

    def __init__(self, grad):
        super().__init__()
        if grad not in _GRADS:
            raise ValueError(f"grad must be 'bpda' or 'exact', got {mk._arrays.describe(grad)}")
        if grad == "exact" and not self._has_exact:
            raise ValueError(
                f"{type(self).__name__} has no exact gradient (the op is piecewise constant): use grad='bpda'"
            )
        if grad == "bpda" and not self._has_bpda:
            raise ValueError(f"{type(self).__name__} changes the shape (no identity to pass through): use grad='exact'")
        self.grad = grad

    def _run(self, x, fn):
        if self.grad == "exact":
            return fn(x)
        return Straight.apply(x, fn(x.detach()))


class _Keyed(_Defence):
    """A randomised defence: seed None (unpredictable), an int, or a Generator (its seed,
    continuing from its position without advancing it)."""

    def __init__(self, grad, seed):
        super().__init__(grad)
        if isinstance(seed, mk.Generator):
            seed, start = seed.seed, seed.position
        else:
            seed, start = (mk.rng.new_seed() if seed is None else seed), 0
        self.register_buffer("key", _ops.key(seed, start))

    @property
    def seed(self) -> int:
        return int(self.key[0]) & ((1 << 64) - 1)

    @property
    def position(self) -> int:
        """The substream the next forward call uses."""
        return int(self.key[1]) & ((1 << 64) - 1)

    def _next_key(self):
        k = self.key.clone()
        self.key[1] += 1
        return k


def _bounds(clip):
    lo, hi = mk._arrays.check_clip(clip)
    return float(lo), float(hi)


class MedianFilter(_Defence):
    """Median smoothing (:func:`mlsec_kernels.median_filter`). Exact gradient: each output's
    gradient goes to the window element the median selected (for tied values, the one at
    rank h*w // 2 of a stable sort of the window read row by row)."""

    _has_exact = True

    def __init__(self, size=3, *, layout="NCHW", mode="reflect", grad="exact"):
        super().__init__(grad)
        self.h, self.w = mk.squeeze._window(size)
        self.layout, self.mode = layout, mode

    def forward(self, x):
        return self._run(x, lambda t: _ops.median_filter(t, self.h, self.w, self.layout, self.mode))


class BitDepth(_Defence):
    """Bit-depth reduction (:func:`mlsec_kernels.bit_depth`); BPDA only."""

    def __init__(self, bits, *, clip=(0.0, 1.0), grad="bpda"):
        super().__init__(grad)
        self.bits, (self.lo, self.hi) = int(bits), _bounds(clip)

    def forward(self, x):
        return self._run(x, lambda t: _ops.bit_depth(t, self.bits, self.lo, self.hi))


class NonLocalMeans(_Defence):
    """Non-local means denoising (:func:`mlsec_kernels.non_local_means`); BPDA only."""

    def __init__(self, h, *, template_size=3, search_size=13, layout="NCHW", grad="bpda"):
        super().__init__(grad)
        self.h, self.t, self.s, self.layout = float(h), int(template_size), int(search_size), layout

    def forward(self, x):
        return self._run(x, lambda v: _ops.non_local_means(v, self.h, self.t, self.s, self.layout))


class _Noise(_Keyed):
    _has_exact = True

    def __init__(self, scale, *, clip=None, seed=None, grad="exact"):
        super().__init__(grad, seed)
        self.scale, (self.lo, self.hi) = float(scale), _bounds(clip)

    def forward(self, x):
        k = self._next_key()
        return self._run(x, lambda t: self._op(t, self.scale, k, self.lo, self.hi))


class GaussianNoise(_Noise):
    """Additive Gaussian noise (:func:`mlsec_kernels.gaussian_noise`), a fresh substream per
    call. Exact gradient: identity (zero where the clip bound was hit)."""

    _op = staticmethod(_ops.gaussian_noise)


class UniformNoise(_Noise):
    """Additive uniform noise (:func:`mlsec_kernels.uniform_noise`); gradient as GaussianNoise."""

    _op = staticmethod(_ops.uniform_noise)


class RandomResizePad(_Keyed):
    """Xie et al. 2018's random resizing and padding (:func:`mlsec_kernels.random_resize_pad`).
    Its gradient is the exact one, the adjoint of the interpolation at the forward's draws
    (it changes the shape, so there is no BPDA identity)."""

    _has_exact, _has_bpda = True, False

    def __init__(
        self,
        out_size,
        *,
        min_size=None,
        interpolation="nearest",
        per_sample=True,
        layout="NCHW",
        seed=None,
        grad="exact",
    ):
        super().__init__(grad, seed)
        self.out_size, self.min_size = int(out_size), 0 if min_size is None else int(min_size)
        self.interpolation, self.per_sample, self.layout = interpolation, bool(per_sample), layout

    def forward(self, x):
        k = self._next_key()
        return _ops.random_resize_pad(
            x, self.out_size, self.min_size, k, self.interpolation, self.per_sample, self.layout
        )


class PixelDeflection(_Keyed):
    """Pixel deflection (:func:`mlsec_kernels.pixel_deflection`); BPDA only."""

    def __init__(self, deflections, window, *, layout="NCHW", seed=None, grad="bpda"):
        super().__init__(grad, seed)
        self.deflections, self.window, self.layout = int(deflections), int(window), layout

    def forward(self, x):
        k = self._next_key()
        return self._run(x, lambda t: _ops.pixel_deflection(t, self.deflections, self.window, k, self.layout))


_RENORM = {"auto": "auto", True: "true", False: "false"}


class OutputGuard(_Defence):
    """An :class:`mlsec_kernels.output.Guard` on a model's output scores, BPDA only: its
    steps one by one (bit for bit the fused Guard). Each noise step continues its stream
    from where the Guard's stands, as a copy of the Guard would (the Guard itself is not
    advanced); the positions live in buffers ``noise_keys`` (one row per noise step)."""

    def __init__(self, guard, *, grad="bpda"):
        super().__init__(grad)
        if not isinstance(guard, _out.Guard):
            raise TypeError(f"guard must be an mlsec_kernels.output.Guard, got {type(guard).__name__}")
        self.steps = guard.steps
        noise = [s for s in self.steps if isinstance(s, _out.GaussianNoise)]
        keys = [_ops.key(s._gen.seed, s._gen.position) for s in noise]
        self.register_buffer("noise_keys", torch.stack(keys) if keys else torch.zeros(0, 2, dtype=torch.int64))

    def _apply_steps(self, p):
        i = 0
        for s in self.steps:
            if isinstance(s, _out.ReverseSigmoid):
                p = _ops.reverse_sigmoid(p, s.beta, s.gamma)
            elif isinstance(s, _out.GaussianNoise):
                k = self.noise_keys[i].clone()
                self.noise_keys[i, 1] += 1
                p, i = _ops.output_gaussian_noise(p, s.scale, k, _RENORM[s.renormalize]), i + 1
            elif isinstance(s, _out.Round):
                p = _ops.round_(p, s.decimals)
            elif isinstance(s, _out.HighConfidence):
                p = _ops.high_confidence(p, s.cutoff)
            elif isinstance(s, _out.TopK):
                p = _ops.top_k(p, s.k, s.one_hot)
            else:
                p = _ops.class_labels(p)
        return p

    def forward(self, p):
        return self._run(p, self._apply_steps)
