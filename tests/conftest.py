"""Shared fixtures: every backend against the float64 reference.

The ``backend`` fixture runs a test on cpp, numba and cuda. A backend this machine
cannot run is skipped with the reason (CUDA without a device, the extension not built),
so the skips stay visible in the summary (``-ra``). Plain helpers are in helpers.py.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from mlsec_kernels import _backend

from .helpers import BACKENDS, skip_unless

# Hypothesis profiles. The tests that set max_examples themselves keep it; the fuzz suite
# (tests/fuzz, marker "fuzz") takes it from the profile: "ci" (the default) is the quick
# pass of the normal test run, "long" the thorough one (pytest -m fuzz --hypothesis-profile
# long). Cases are slow to generate (arrays in many layouts) and calls may compile Numba
# specialisations: no deadline, no health check on speed or size.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=_SLOW_OK)
settings.register_profile("long", max_examples=3000, deadline=None, suppress_health_check=_SLOW_OK)
settings.load_profile("ci")  # --hypothesis-profile, read after this file, overrides it


@pytest.fixture(params=BACKENDS)
def backend(request):
    skip_unless(request.param)
    return request.param


@pytest.fixture(params=["auto", "cpp", "numba"])
def host_backend(request):
    """Host backends; "auto" takes the C++ fast path for NumPy inputs (its own checks)."""
    if request.param != "auto":
        skip_unless(request.param)
    elif "auto" not in _backend.FAST:
        pytest.skip("the C++ fast path is off here (extension missing or MLSEC_BACKEND set)")
    return request.param


@pytest.fixture
def rng(request):
    """Fresh random data per test, reproducible from the test's name (printed on failure)."""
    import zlib

    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
