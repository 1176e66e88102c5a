"""The Numba ports' shared helpers."""

import numba
import numpy as np

from mlsec_kernels._numba._util import jit_pair
from mlsec_kernels._numba.reduce import chunk_sums, row_sum


def _add_one(a, out, nparts):
    for i in range(a.size):
        out[i] = a[i] + 1


def test_jit_pair_copies_have_their_own_cache_entries():
    # Numba's on-disk cache keys entries by function name and signature, not by options:
    # one shared name let the serial copy load the parallel build (a thread-pool wake-up
    # on every small call).
    serial, parallel = jit_pair(_add_one)
    assert serial.py_func.__qualname__ != parallel.py_func.__qualname__
    assert "parallel" not in serial.targetoptions and parallel.targetoptions["parallel"]
    a, out = np.arange(5.0), np.zeros(5)
    serial(a, out, 1)
    np.testing.assert_array_equal(out, a + 1)


def _canonical(terms):
    """cpp/reduce.hpp's order in plain Python: rows of K terms, (d, K) float64."""
    total = np.zeros(terms.shape[1])
    for c in range(0, terms.shape[0], 1024):
        lanes = np.zeros((32, terms.shape[1]))
        for j in range(c, min(terms.shape[0], c + 1024)):
            lanes[(j - c) % 32] += terms[j]
        h = 16
        while h:
            lanes[:h] += lanes[h : 2 * h]
            h //= 2
        total += lanes[0]
    return total


@numba.njit(inline="always")
def _two(ctx, j):
    v = np.float64(ctx[j])
    return v, v * v


@numba.njit
def _sums(x):
    tot = np.zeros(2)
    chunk_sums(_two, x, 0, x.shape[0], tot)
    return tot, row_sum(_two, x, x.shape[0])


def test_canonical_sums_follow_the_cpp_order():
    # lengths around the lane and chunk sizes; values of mixed magnitude, so another
    # order would change the bits
    rng = np.random.default_rng(1)
    for d in (0, 1, 31, 32, 33, 1023, 1024, 1025, 3000):
        x = (rng.standard_normal(d) * 10.0 ** rng.integers(-8, 8, d)).astype(np.float32)
        x64 = x.astype(np.float64)
        want = _canonical(np.stack([x64, x64 * x64], axis=1))
        tot, first = _sums(x)
        assert tot.tobytes() == want.tobytes() and first == want[0]


def test_every_compiled_kernel_releases_the_gil():
    # like the C++ kernels: a server's other threads run while a Numba kernel computes
    import importlib
    import pkgutil

    import mlsec_kernels._numba as port

    compiled = []
    for info in pkgutil.iter_modules(port.__path__):
        mod = importlib.import_module(f"mlsec_kernels._numba.{info.name}")
        for obj in vars(mod).values():
            if isinstance(obj, numba.core.registry.CPUDispatcher) and obj.__module__ == mod.__name__:
                if obj.targetoptions.get("inline") != "always":  # inlined into its callers
                    compiled.append(obj)
    assert compiled and all(d.targetoptions.get("nogil") for d in compiled), [
        d.__qualname__ for d in compiled if not d.targetoptions.get("nogil")
    ]
