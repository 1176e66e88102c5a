import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import dev, host, peer

INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
BITS = range(1, 65)


def art(x, bits, clip):
    """ART's FeatureSqueezing itself (float64 result), or a skip where ART is not installed."""
    fs = pytest.importorskip(
        "art.defences.preprocessor", reason="adversarial-robustness-toolbox is not installed: no ART to compare with"
    )
    return fs.FeatureSqueezing(clip_values=clip, bit_depth=bits)(x)[0]


def floats(rng, dtype, lo, hi, bits=8):
    """Data over clip and a little outside it, with exact halves of the 8-bit grid."""
    x = (rng.random((3, 5, 7, 9)) * (hi - lo) * 1.2 + lo - 0.1 * (hi - lo)).astype(dtype)
    x.flat[:16] = lo + (np.arange(16) + 0.5) / (2**bits - 1) * (hi - lo)
    return x


def ints(rng, dtype, shape=(4, 3, 13, 11)):
    """Integers over the dtype's whole range, its extremes included."""
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    x.flat[:4] = [info.min, info.max, 0, 1]
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("clip", [None, (0.0, 1.0), (-1.0, 1.0), (0.1, 0.7), (-3.5, 250.0)])
def test_matches_art(backend, rng, dtype, clip):
    # ART returns float64; float32 data gets that rounded once to float32
    lo, hi = clip or (0.0, 1.0)
    x = floats(rng, dtype, lo, hi)
    xd = dev(x, backend)
    for bits in BITS:
        want = art(x, bits, (lo, hi))
        assert want.dtype == np.float64
        np.testing.assert_array_equal(ref.bit_depth(x, bits, clip=clip), want, err_msg=f"reference, bits={bits}")
        got = host(mk.bit_depth(xd, bits, clip=clip, backend=backend))
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want.astype(dtype), err_msg=f"bits={bits}")


def test_issue_example_float32(backend):
    # x * 255 rounds onto 155.5 in float32 (ties to 156), not in float64 (155): ART takes 155
    x = np.array([[0.6098039]], np.float32)
    got = host(mk.bit_depth(dev(x, backend), 8, clip=(0, 1), backend=backend))
    np.testing.assert_array_equal(got, art(x, 8, (0, 1)).astype(np.float32))
    assert got[0, 0] == np.float32(155 / 255)


@pytest.mark.parametrize("dtype", INTS)
def test_integers_match_art(backend, rng, dtype):
    # float clip values: ART converts x to float64 first, as we do (its integer clip values
    # would subtract in x's dtype and wrap around in narrow ones)
    info = np.iinfo(dtype)
    x = ints(rng, dtype)
    xd = dev(x, backend)
    for clip in (None, (10.0, 200.0), (-3.0, 7.5)):
        lo, hi = clip or (float(info.min), float(info.max))
        for bits in BITS:
            want = art(x, bits, (lo, hi))
            got = host(mk.bit_depth(xd, bits, clip=clip, backend=backend))
            assert got.dtype == np.float64
            np.testing.assert_array_equal(got, want, err_msg=f"clip={clip} bits={bits}")
            np.testing.assert_array_equal(ref.bit_depth(x, bits, clip=clip), want)


def test_integer_example_and_half_to_even(host_backend):
    # ART's own example; (0, 1, 2, 3, 4) / 4 * 3 = 0, 0.75, 1.5, 2.25, 3: 1.5 rounds to 2
    x = np.arange(5).reshape(1, 5)
    got = mk.bit_depth(x, 2, clip=(0, 4), backend=host_backend)
    np.testing.assert_array_equal(got, art(x, 2, (0, 4)))
    np.testing.assert_array_equal(got, [[0, 4 / 3, 8 / 3, 8 / 3, 4]])


def test_uint8_default_clip_is_0_255(host_backend):
    x = np.arange(256, dtype=np.uint8).reshape(1, 256)
    got = mk.bit_depth(x, 1, backend=host_backend)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.where(x > 127, 255.0, 0.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint64])
def test_backends_bit_identical_threaded(backend, rng, dtype):
    x = (
        (rng.random((3, 70001)) * 3 - 1).astype(dtype)
        if dtype in (np.float32, np.float64)
        else ints(rng, dtype, (3, 70001))
    )
    for bits in (3, 8, 24, 53, 64):
        want = mk.bit_depth(x, bits, clip=(-0.5, 1.5), backend=peer(backend))
        got = host(mk.bit_depth(dev(x, backend), bits, clip=(-0.5, 1.5), backend=backend))
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_batch_and_in_place(backend, rng, dtype):
    x = rng.random((3, 70001)).astype(dtype)  # crosses the threading threshold
    want = art(x, 4, (0.0, 1.0)).astype(dtype)
    xd = dev(x, backend)
    got = mk.bit_depth(xd, 4, out=xd, backend=backend)
    assert got is xd
    np.testing.assert_array_equal(host(xd), want)


def test_integer_out(host_backend, rng):
    x = ints(rng, np.int32, (3, 70001))
    out = np.full(x.shape, np.nan)
    assert mk.bit_depth(x, 5, clip=(-1e9, 1e9), out=out, backend=host_backend) is out
    np.testing.assert_array_equal(out, art(x, 5, (-1e9, 1e9)))
    with pytest.raises(TypeError, match="out must have dtype float64"):
        mk.bit_depth(x, 5, out=x, backend=host_backend)
    y = ints(rng, np.int64, (2, 9))
    with pytest.raises(ValueError, match="out overlaps x in part"):  # same bytes, another dtype
        mk.bit_depth(y, 5, out=y.view(np.float64), backend=host_backend)


def test_non_contiguous(host_backend, rng):
    x = rng.random((6, 10, 8)).astype(np.float32)[:, ::2, 1::2]
    out = np.zeros((6, 10, 8), np.float32)[:, 1::2, ::2]
    got = mk.bit_depth(x, 3, out=out, backend=host_backend)
    assert got is out
    np.testing.assert_array_equal(out, art(x, 3, (0.0, 1.0)).astype(np.float32))
    xi = np.arange(60, dtype=np.uint16).reshape(6, 10)[:, ::3]
    np.testing.assert_array_equal(mk.bit_depth(xi, 3, clip=(0, 59), backend=host_backend), art(xi, 3, (0.0, 59.0)))


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(bits=0), ValueError, "bits must be an integer in 1..64"),
        (dict(bits=65), ValueError, "bits must be an integer in 1..64"),
        (dict(bits=2.5), TypeError, "bits must be an integer"),
        (dict(clip=(1.0, 1.0)), ValueError, "clip must be finite .* low < high"),
        (dict(clip=(1.0, 0.0)), ValueError, "clip must be finite .* low < high"),
        (dict(clip=(0.0, float("inf"))), ValueError, "clip must be finite"),
        (dict(clip=3), TypeError, "clip must be a pair"),
        (dict(x=np.zeros((2, 4), bool)), TypeError, "x must be float32, float64 or an integer dtype, got bool"),
        (dict(x=np.zeros((2, 4), np.float16)), TypeError, "x must be .* integer dtype, got float16"),
        (dict(x=np.zeros((2, 4), np.complex64)), TypeError, "x must be .* integer dtype, got complex64"),
        (dict(x=np.zeros((2, 4), object)), TypeError, "x must be .* integer dtype, got object"),
        (dict(out=np.zeros((2, 5), np.float32)), ValueError, "out must have.*shape"),
        (dict(out=np.zeros((2, 4), np.float64)), TypeError, "out must have dtype float32"),
        (
            dict(x=np.zeros((2, 4), np.uint8), out=np.zeros((2, 4), np.float32)),
            TypeError,
            "out must have dtype float64",
        ),
        (dict(backend="cuda"), ValueError, "needs device arrays"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(x=np.zeros((2, 4), np.float32), bits=4, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.bit_depth(args.pop("x"), args.pop("bits"), **args)
