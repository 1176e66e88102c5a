"""The Numba ports' shared helpers."""
import numpy as np

from mlsec_kernels._numba._util import jit_pair


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
