"""Float64 NumPy references: the specification of every op.

Each function computes, in float64 and in the plainest NumPy, exactly what the op of the
same name computes. Every backend is tested against these; users can read them to know
what an op does.
"""

from . import output, rng, transforms
from .perturb import fgsm, pgd_step, project
from .rng import random_start
from .squeeze import bit_depth, median_filter, non_local_means, squeeze_score, squeeze_threshold

__all__ = ["fgsm", "pgd_step", "project", "rng", "random_start"]
__all__ += ["bit_depth", "median_filter", "non_local_means", "squeeze_score", "squeeze_threshold"]
__all__ += ["transforms", "output"]
