"""Helpers the tests share: which backends run here, device and host copies, norms and
tolerances. The fixtures built on them are in conftest.py."""

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import _backend

BACKENDS = ["cpp", "numba", pytest.param("cuda", marks=pytest.mark.cuda)]


def _cupy_or_none():
    try:
        import cupy

        return cupy
    except Exception:  # ImportError, or a CuPy that cannot load its CUDA libraries
        return None


def skip_unless(backend):
    if not _backend.available(backend):
        pytest.skip(f"backend {backend!r} unavailable: {mk.backends()[backend]}")
    if backend == "cuda" and _cupy_or_none() is None:
        pytest.skip("CUDA tests need CuPy to hold device arrays, and it is not installed")


def cpu_module():
    """The C++ module of the CPU tier this process loaded (its raw bindings), or a skip."""
    if _backend._cpu is None:
        pytest.skip(f"the C++ extension is not built: {mk.backends()['cpp']}")
    return _backend._cpu


def peer(backend):
    """The backend a bit-identity test compares ``backend`` with: never itself (cpp is
    checked against numba, every other backend, the fast path "auto" included, against cpp)."""
    other = "numba" if backend == "cpp" else "cpp"
    skip_unless(other)
    return other


def dev(a, backend):
    """The array the backend runs on: NumPy for host backends, CuPy for cuda."""
    if backend == "cuda" and a is not None:
        return _cupy_or_none().asarray(a)
    return a


def host(a):
    """Back to NumPy from whatever a backend returned."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def norms(a, p):
    """Per-sample Lp norm (p = "inf", 1 or 2) in float64: one value per row of the batch."""
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    return np.abs(a).max(1) if p in ("inf", np.inf) else np.linalg.norm(a, ord=p, axis=1)


def tol(dtype):
    """Float32 kernels compute in float32: a few ulp from the float64 reference."""
    return dict(rtol=2e-6, atol=2e-6) if np.dtype(dtype) == np.float32 else dict(rtol=1e-12, atol=1e-12)


def run_without_torch(code: str):
    """`code` run in a fresh interpreter where ``import torch`` fails, as on a machine
    without PyTorch; the CompletedProcess (stdout as text)."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    prog = "import sys; sys.modules['torch'] = None\n" + code
    return subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, env=env, timeout=120)
