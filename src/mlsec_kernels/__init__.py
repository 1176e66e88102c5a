"""mlsec_kernels: attack and defence primitives for machine-learning security.

C++ and CUDA kernels behind a NumPy-compatible API, with Numba fallbacks: the data
decides the device, the result comes back in the caller's array type and dtype, and
randomised ops draw from one counter-based stream (Philox4x32-10) that gives the same
bits on every backend.
"""
from ._backend import backends
from .perturb import fgsm
from .perturb import random_start
from . import rng
from .rng import Generator

__version__ = "0.1.0"
__all__ = ["backends", "fgsm"]
__all__ += ["random_start", "rng", "Generator"]
from . import output
__all__ += ["output"]
