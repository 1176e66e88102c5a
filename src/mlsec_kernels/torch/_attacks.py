"""An ``nn.Module`` (logits out) as the callables the attack drivers take, with the
losses of adaptive evaluation and expectation over transformation (EOT).

``loss_grad(model, loss)`` gives ``(x, y) -> (loss, grad, logits)`` with per-sample losses
(the gradient of their sum is each sample's own gradient), ``predict(model)`` gives
``x -> logits``; both run under ``torch.no_grad``/``enable_grad`` as needed and keep every
tensor on the device of ``x`` (which should be the model's). The drivers of
:mod:`mlsec_kernels.attacks` turn a module passed in place of ``loss_grad`` or ``predict``
into these (cross-entropy by default).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def ce(z, y):
    """Cross-entropy per sample."""
    return F.cross_entropy(z, y, reduction="none")


def margin(z, y):
    """Carlini & Wagner's margin: ``max_{i != y} z_i - z_y`` (> 0 once misclassified)."""
    zy = z.gather(1, y[:, None])[:, 0]
    other = z.masked_fill(F.one_hot(y, z.shape[1]).bool(), -torch.inf).amax(1)
    return other - zy


def dlr(z, y):
    """Difference of logits ratio (Croce & Hein, "Reliable evaluation of adversarial
    robustness with an ensemble of diverse parameter-free attacks", ICML 2020), untargeted:
    ``-(z_y - max_{i != y} z_i) / (z_pi1 - z_pi3 + 1e-12)``, pi the logits sorted in
    decreasing order. Needs at least 3 classes."""
    if z.shape[1] < 3:
        raise ValueError(f"the DLR loss needs at least 3 classes, the model gives {z.shape[1]}")
    zs = z.sort(dim=1, descending=True).values
    return margin(z, y) / (zs[:, 0] - zs[:, 2] + 1e-12)


LOSSES = {"ce": ce, "margin": margin, "dlr": dlr}


class EOT(nn.Module):
    """Expectation over transformation (Athalye et al., ICML 2018): the wrapped model
    evaluated ``n`` times, each with fresh draws of its randomised modules (each forward
    takes the next substream); loss_grad and predict average over the ``n`` evaluations.
    A driver counts one query per call: each is ``n`` model evaluations."""

    def __init__(self, model, n):
        super().__init__()
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be an int >= 1, got {n!r}")
        self.model, self.n = model, n

    def forward(self, x):
        z = self.model(x)
        for _ in range(self.n - 1):
            z = z + self.model(x)
        return z / self.n


def eot(model, n):
    """``model`` averaged over ``n`` draws of its randomised modules (:class:`EOT`)."""
    return EOT(model, n)


def _loss_fn(loss):
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"loss must be 'ce', 'margin', 'dlr' or a callable (z, y) -> per-sample loss, got {loss!r}")
    return LOSSES[loss]


def _tensor(a, like=None):
    if isinstance(a, torch.Tensor):
        return a if like is None else a.to(like.device)
    return torch.as_tensor(a, device=None if like is None else like.device)


def loss_grad(model, loss="ce"):
    """``(x, y) -> (loss (N,), d sum(loss) / dx, logits)`` of a module; ``loss`` is
    "ce", "margin", "dlr" or a callable ``(logits, y) -> (N,)``. For an :class:`EOT`
    model, loss and gradient are the means over its ``n`` draws."""
    fn, n = _loss_fn(loss), (model.n if isinstance(model, EOT) else 1)
    net = model.model if isinstance(model, EOT) else model

    def lg(x, y):
        x = _tensor(x).detach()
        y = _tensor(y, x).long()
        total_l = total_g = total_z = None
        for _ in range(n):
            xr = x.clone().requires_grad_(True)
            with torch.enable_grad():
                z = net(xr)
                lv = fn(z, y)
                (g,) = torch.autograd.grad(lv.sum(), xr)
            total_l = lv.detach() if total_l is None else total_l + lv.detach()
            total_g = g if total_g is None else total_g + g
            total_z = z.detach() if total_z is None else total_z + z.detach()
        if n == 1:
            return total_l, total_g, total_z
        return total_l / n, total_g / n, total_z / n

    return lg


def predict(model):
    """``x -> logits`` of a module, without building a graph."""

    def p(x):
        with torch.no_grad():
            return model(_tensor(x))

    return p
