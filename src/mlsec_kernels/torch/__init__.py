"""PyTorch integration: every op as a ``torch.library`` custom op (``torch.ops.mlsec.*``)
with fake implementations and gradients, defences as ``nn.Module``s (exact or BPDA
gradients, reproducible randomness), and models as attack callables. See docs/torch.md.

Needs PyTorch (``pip install mlsec-kernels[torch]``); importing this module without it
raises an ImportError that says so. The rest of mlsec_kernels does not need torch.
"""

try:
    import torch as _torch  # the real torch: absolute imports, this package is mlsec_kernels.torch
except ImportError as e:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "mlsec_kernels.torch needs PyTorch, which is not installed: pip install torch "
        "(or mlsec-kernels[torch]); the rest of mlsec_kernels works without it"
    ) from e

from . import _grads  # noqa: F401 (registers the gradients)
from ._attacks import EOT, LOSSES, ce, dlr, eot, loss_grad, margin, predict
from ._modules import (
    BitDepth,
    GaussianNoise,
    MedianFilter,
    NonLocalMeans,
    OutputGuard,
    PixelDeflection,
    RandomResizePad,
    UniformNoise,
)
from ._ops import OPS, key

ops = _torch.ops.mlsec

__all__ = [
    "ops",
    "OPS",
    "key",
    "MedianFilter",
    "BitDepth",
    "NonLocalMeans",
    "GaussianNoise",
    "UniformNoise",
    "RandomResizePad",
    "PixelDeflection",
    "OutputGuard",
    "loss_grad",
    "predict",
    "eot",
    "EOT",
    "LOSSES",
    "ce",
    "margin",
    "dlr",
]
