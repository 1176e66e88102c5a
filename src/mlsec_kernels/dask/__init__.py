"""mlsec_kernels on Dask: every batch op on ``dask.array`` arrays (NumPy or CuPy chunks),
returning lazy arrays bit for bit equal to the in-memory call under any chunking, plus
randomized-smoothing certification and attacks over a dataset on a ``dask.distributed``
cluster. Needs the ``dask`` extra: ``pip install "mlsec-kernels[dask]"``. docs/dask.md has
the chunking rules and how the random streams stay independent of the chunking.
"""

try:
    import dask.array  # noqa: F401
except ImportError as e:  # pragma: no cover (the test extra installs dask)
    raise ImportError(
        'mlsec_kernels.dask needs Dask: pip install "mlsec-kernels[dask]" (dask[array,distributed])'
    ) from e

from . import output
from ._attack import attack
from ._cluster import certify, predict
from ._ops import (
    bit_depth,
    fgsm,
    gaussian_noise,
    pgd_step,
    pixel_deflection,
    project,
    random_resize_pad,
    random_start,
    uniform_noise,
)
from ._output import squeeze_score
from ._overlap import median_filter, non_local_means

__all__ = [
    "fgsm",
    "pgd_step",
    "project",
    "random_start",
    "bit_depth",
    "median_filter",
    "non_local_means",
    "squeeze_score",
    "gaussian_noise",
    "uniform_noise",
    "random_resize_pad",
    "pixel_deflection",
    "output",
    "certify",
    "predict",
    "attack",
]
