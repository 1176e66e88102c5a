import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import dev, host


def art_formula(x, bits, lo, hi):
    """ART's FeatureSqueezing.__call__, evaluated in x's float dtype, operation for operation."""
    t = x.dtype.type
    span, m = t(hi - lo), t(2**bits - 1)
    res = np.rint(((x - t(lo)) / span) * m) / m
    return (res * span) + t(lo)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bits", range(1, 9))
@pytest.mark.parametrize("clip", [None, (0.0, 1.0), (-1.0, 1.0), (0.1, 0.7)])
def test_matches_art_formula(backend, rng, dtype, bits, clip):
    lo, hi = clip or (0.0, 1.0)
    x = (rng.random((3, 5, 7, 9)) * (hi - lo) * 1.2 + lo - 0.1 * (hi - lo)).astype(dtype)  # a little outside too
    x.flat[:16] = (np.arange(16) + 0.5) / (2**bits - 1)  # exact halves before rounding
    got = host(mk.bit_depth(dev(x, backend), bits, clip=clip, backend=backend))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, art_formula(x, bits, lo, hi))
    if dtype == np.float64:
        np.testing.assert_array_equal(got, ref.bit_depth(x, bits, clip=clip))


@pytest.mark.parametrize("bits", [9, 12, 16])
def test_high_bits_match_reference(backend, rng, bits):
    x = rng.random((2, 1001))
    np.testing.assert_array_equal(host(mk.bit_depth(dev(x, backend), bits, backend=backend)), ref.bit_depth(x, bits))


@pytest.mark.parametrize("bits", [1, 3, 5, 8, 11, 16])
@pytest.mark.parametrize("clip", [None, (10, 200), (0.0, 1000.0)])
def test_uint8(backend, rng, bits, clip):
    x = rng.integers(0, 256, (4, 3, 13, 11), dtype=np.uint8)
    got = host(mk.bit_depth(dev(x, backend), bits, clip=clip, backend=backend))
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, ref.bit_depth(x, bits, clip=clip))


def test_uint8_default_clip_is_0_255(host_backend):
    x = np.arange(256, dtype=np.uint8).reshape(1, 256)
    got = mk.bit_depth(x, 1, backend=host_backend)
    np.testing.assert_array_equal(got, np.where(x > 127, 255, 0))


def test_large_batch_and_in_place(backend, rng):
    x = rng.random((3, 70001)).astype(np.float32)  # crosses the threading threshold
    want = art_formula(x, 4, 0.0, 1.0)
    xd = dev(x, backend)
    got = mk.bit_depth(xd, 4, out=xd, backend=backend)
    assert got is xd
    np.testing.assert_array_equal(host(xd), want)


def test_non_contiguous(host_backend, rng):
    x = rng.random((6, 10, 8)).astype(np.float32)[:, ::2, 1::2]
    out = np.zeros((6, 10, 8), np.float32)[:, 1::2, ::2]
    got = mk.bit_depth(x, 3, out=out, backend=host_backend)
    assert got is out
    np.testing.assert_array_equal(out, art_formula(np.ascontiguousarray(x), 3, 0.0, 1.0))


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(bits=0), ValueError, "bits must be an integer in 1..16"),
        (dict(bits=17), ValueError, "bits must be an integer in 1..16"),
        (dict(bits=2.5), TypeError, "bits must be an integer"),
        (dict(clip=(1.0, 1.0)), ValueError, "clip must be finite .* low < high"),
        (dict(clip=(1.0, 0.0)), ValueError, "clip must be finite .* low < high"),
        (dict(clip=(0.0, float("inf"))), ValueError, "clip must be finite"),
        (dict(clip=3), TypeError, "clip must be a pair"),
        (dict(x=np.zeros((2, 4), np.int32)), TypeError, "x must be float32 or float64 or uint8"),
        (dict(out=np.zeros((2, 5), np.float32)), ValueError, "out must have.*shape"),
        (dict(out=np.zeros((2, 4), np.float64)), TypeError, "out must have.*dtype"),
        (dict(backend="cuda"), ValueError, "needs device arrays"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(x=np.zeros((2, 4), np.float32), bits=4, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.bit_depth(args.pop("x"), args.pop("bits"), **args)
