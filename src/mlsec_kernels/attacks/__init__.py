"""Attack drivers on the kernels: white-box (FGSM, PGD) and black-box (Square Attack,
SimBA, NES/SPSA gradient estimates).

A model is a pair of callables, so any framework fits: ``loss_grad(x, y) -> (loss, grad)``
(optionally ``(loss, grad, scores)``) for white-box attacks, ``predict(x) -> scores`` (N, K)
for black-box ones. NumPy and CuPy arrays are used as they are; torch tensors are viewed
through DLPack (zero-copy) and the callables still receive tensors. Every attack batches
over samples, takes ``seed=`` (int, None or :class:`mlsec_kernels.Generator`: all
randomness comes from the Philox stream, no global state), allocates its working buffers
once, stops early per sample, and returns an :class:`AttackResult` (``x_adv``,
``success``, ``queries`` per sample).
"""

from ._common import AttackResult
from .estimate import estimated_loss_grad, nes_gradient, spsa_gradient
from .gradient import fgsm, pgd
from .simba import simba
from .square import p_schedule, square_attack

__all__ = [
    "AttackResult",
    "fgsm",
    "pgd",
    "square_attack",
    "p_schedule",
    "simba",
    "nes_gradient",
    "spsa_gradient",
    "estimated_loss_grad",
    "eot",
]


def eot(model, n):
    """Expectation over transformation for a torch model: :func:`mlsec_kernels.torch.eot`
    (needs PyTorch; an attack given the result averages each gradient over ``n`` draws)."""
    from ..torch import eot as _eot

    return _eot(model, n)
