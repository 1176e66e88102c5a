"""mlsec_kernels: attack and defence primitives for machine-learning security.

C++ and CUDA kernels behind a NumPy-compatible API, with Numba fallbacks: the data
decides the device, the result comes back in the caller's array type and dtype, and
randomised ops draw from one counter-based stream (Philox4x32-10) that gives the same
bits on every backend.
"""

from . import attacks, output, rng, smoothing, transforms
from ._backend import backends
from .perturb import fgsm, pgd_step, project, random_start
from .rng import Generator
from .squeeze import SqueezeDetector, bit_depth, median_filter, non_local_means, squeeze_score
from .transforms import gaussian_noise, pixel_deflection, random_resize_pad, uniform_noise

__version__ = "0.1.0"
__all__ = [
    "backends",
    "Generator",
    # perturbation (attacks, adversarial training)
    "fgsm",
    "pgd_step",
    "project",
    "random_start",
    # feature squeezing
    "bit_depth",
    "median_filter",
    "non_local_means",
    "squeeze_score",
    "SqueezeDetector",
    # randomised transforms
    "gaussian_noise",
    "uniform_noise",
    "random_resize_pad",
    "pixel_deflection",
    # modules
    "attacks",
    "output",
    "rng",
    "smoothing",
    "transforms",
]
