"""mlsec_kernels: attack and defence primitives for machine-learning security.

C++ and CUDA kernels behind a NumPy-compatible API, with Numba fallbacks: the data
decides the device, the result comes back in the caller's array type and dtype, and
randomised ops draw from one counter-based stream (Philox4x32-10) that gives the same
bits on every backend.
"""
from ._backend import backends
from .perturb import fgsm
from . import output

__version__ = "0.1.0"
__all__ = ["backends", "fgsm", "output"]
