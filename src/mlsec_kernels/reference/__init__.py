"""Float64 NumPy references: the specification of every op.

Each function computes, in float64 and in the plainest NumPy, exactly what the op of the
same name computes. Every backend is tested against these; users can read them to know
what an op does.
"""
from .perturb import fgsm
from . import rng
from .rng import random_start

__all__ = ["fgsm"]
__all__ += ["rng", "random_start"]
from . import output
__all__ += ["output"]
