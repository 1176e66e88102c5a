"""Attack primitives (fgsm, pgd_step, project, random_start) and the random stream, on an
ImageNet batch (64, 3, 224, 224) float32 with --bench-full (the L1 cases on (64, 150528)),
and fgsm on one (1, 1000) row for the per-call latency: each backend against the NumPy,
Numba prange, PyTorch (eager and torch.compile) and ART expressions, and the copy floor.
The cases are those of ``mlsec-kernels bench`` (see conftest.py).
"""

CLI_OPS = ("fgsm", "pgd_step", "project", "random_start", "rng")


def test_case(cli_call, measure):
    measure(*cli_call)
