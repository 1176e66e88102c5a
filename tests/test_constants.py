"""Constants C++ defines and Python needs too (median_filter's window limit, the output
steps' codes, the small-call threshold) have one source: the extension's ``constants``
dict (python/constants.hpp). Python reads them from there where the extension is built;
these tests hold the copies kept for installs without it to the extension's values."""

import sys

import pytest

import mlsec_kernels as mk
from mlsec_kernels import _backend, _constants

from .helpers import cpu_module


@pytest.fixture
def built():
    return dict(cpu_module().constants)


def test_numba_port_reads_the_extension(built):
    assert _constants.FROM_EXTENSION
    assert _constants.VALUES == built


def test_fallback_copies_equal_the_extension(built):
    assert _constants._COPIES == built


def test_every_module_exports_the_same(built):
    from mlsec_kernels import _cpu_default

    assert dict(_cpu_default.constants) == built
    if _backend._cuda is not None:
        assert dict(_backend._cuda.constants) == built


def test_median_filter_window_limit(built):
    assert sys.modules[mk.median_filter.__module__].MAX_WINDOW_PIXELS == built["MAX_WINDOW_PIXELS"]


def test_output_step_codes(built):
    o = mk.output
    kinds = {
        "REVERSE_SIGMOID": o.ReverseSigmoid(),
        "GAUSSIAN_NOISE": o.GaussianNoise(seed=0),
        "ROUND": o.Round(),
        "HIGH_CONFIDENCE": o.HighConfidence(),
        "TOP_K": o.TopK(1),
        "CLASS_LABELS": o.ClassLabels(),
    }
    assert {name: step._encode()[0] for name, step in kinds.items()} == {name: built[name] for name in kinds}
    modes = {"RENORM_NEVER": False, "RENORM_ALWAYS": True, "RENORM_AUTO": "auto"}
    assert {name: o.GaussianNoise(seed=0, renormalize=m)._encode()[4] for name, m in modes.items()} == {
        name: built[name] for name in modes
    }


def test_guard_step_limit(built):
    o = mk.output
    o.Guard([o.Round()] * built["MAX_STEPS"])
    with pytest.raises(ValueError, match=f"at most {built['MAX_STEPS']} steps"):
        o.Guard([o.Round()] * (built["MAX_STEPS"] + 1))


def test_norm_codes(built):
    from mlsec_kernels._arrays import check_norm

    assert [check_norm(n) for n in ("inf", 1, 2)] == [built["NORM_INF"], built["NORM_L1"], built["NORM_L2"]]
