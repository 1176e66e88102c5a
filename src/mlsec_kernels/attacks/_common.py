"""What every attack driver shares: the result object, the array bridge to the caller's
library, the margin loss, per-sample bookkeeping and integer draws from the shared stream."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from .. import rng as _rng


@dataclass
class AttackResult:
    """What an attack returns.

    - ``x_adv``: the adversarial batch, same shape, dtype and array type as ``x``.
    - ``success``: bool array (N,): the attack reached its goal on that sample (the
      prediction differs from ``y``, or equals the target when ``targeted``); ``None``
      when the driver had no way to tell (a white-box attack given neither ``predict``
      nor a ``loss_grad`` that returns scores).
    - ``queries``: int array (N,): model calls spent on each sample (``loss_grad`` calls
      for white-box attacks, ``predict`` calls for black-box ones).
    """

    x_adv: object
    success: object
    queries: np.ndarray

    @property
    def success_rate(self) -> float:
        return float(np.mean(_host(self.success))) if self.success is not None else float("nan")


def _host(a):
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


class Bridge:
    """The drivers' bookkeeping runs on NumPy (host) or CuPy (device) arrays; a torch
    tensor is viewed as one of them through DLPack (zero-copy) on the way in, and the
    model callables still receive and return the caller's type."""

    def __init__(self, x):
        t = sys.modules.get("torch")
        self.torch = t is not None and isinstance(x, t.Tensor)
        if self.torch:
            dev = x.is_cuda
            self.xp = __import__("cupy") if dev else np
            x = x.detach()
            self.x = self.xp.from_dlpack(x) if dev else np.from_dlpack(x.contiguous())
        else:
            self.xp = (
                np if isinstance(x, np.ndarray) or not hasattr(x, "__cuda_array_interface__") else __import__("cupy")
            )
            self.x = self.xp.ascontiguousarray(x)

    def out(self, a):
        """An xp array in the caller's type."""
        if self.torch:
            return sys.modules["torch"].from_dlpack(a)
        return a

    def into(self, a):
        """A callable's output (caller's type) as an xp array."""
        if self.torch:
            a = a.detach()
            return self.xp.from_dlpack(a) if self.xp is not np else np.from_dlpack(a.cpu())
        return self.xp.asarray(a)

    def wrap(self, fn, n_out=1):
        fn = _from_module(fn, n_out, self.torch)
        if fn is None or not self.torch:
            return fn
        if n_out == 1:
            return lambda *a: self.into(fn(*(self.out(v) for v in a)))
        return lambda *a: tuple(self.into(v) if v is not None else None for v in fn(*(self.out(v) for v in a)))


def _from_module(fn, n_out, x_is_tensor):
    """A torch nn.Module (logits out) in place of loss_grad (cross-entropy) or predict:
    the callables of :mod:`mlsec_kernels.torch`."""
    t = sys.modules.get("torch")
    if t is None or not isinstance(fn, t.nn.Module):
        return fn
    if not x_is_tensor:
        raise TypeError("x must be a torch tensor (on the model's device) when the model is an nn.Module")
    from .. import torch as mt

    return mt.loss_grad(fn) if n_out == 2 else mt.predict(fn)


def labels(xp, y, n):
    y = xp.asarray(y).astype(xp.int64, copy=False).reshape(-1)
    if y.shape[0] != n:
        raise ValueError(f"y must hold one label per sample ({n}), got {y.shape[0]}")
    return y


def margin(xp, scores, y, targeted):
    """Per-sample margin (N,): ``s_y - max_{j != y} s_j`` (untargeted) or
    ``max_{j != t} s_j - s_t`` (targeted); the attack has succeeded where it is <= 0."""
    rows = xp.arange(scores.shape[0])
    sy = scores[rows, y].copy()
    scores[rows, y] = -xp.inf
    other = scores.max(axis=1)
    scores[rows, y] = sy
    return other - sy if targeted else sy - other


def reached(xp, scores, y, targeted):
    pred = scores.argmax(axis=1)
    return pred == y if targeted else pred != y


def integers(words, n):
    """Integers in [0, n) from stream words, the multiply-shift of docs/design.md ``(w * n) >> 32``
    (n may be an array broadcasting against ``words``)."""
    return ((words.astype(np.uint64) * np.asarray(n, np.uint64)) >> np.uint64(32)).astype(np.int64)


def words(gen, n):
    """n raw uint32 words from the generator's next substream (host: positions and signs
    are bookkeeping, tiny next to the images)."""
    return _rng.random_raw(n, seed=gen.seed, substream=gen.next_substream())


def generator(seed):
    return seed if isinstance(seed, _rng.Generator) else _rng.Generator(seed)


def image_shape(shape):
    """(C, H, W) of one sample: (N, H, W) is one channel, (N, C, H, W) as given."""
    if len(shape) == 3:
        return 1, shape[1], shape[2]
    if len(shape) == 4:
        return tuple(shape[1:])
    raise ValueError(f"x must be a batch of images (N, H, W) or (N, C, H, W), got shape {tuple(shape)}")
