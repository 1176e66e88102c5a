import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import dev, host

SIZES = [2, 3, 4, 5, 6, 7, (2, 5), (5, 2), (1, 3), (3, 1), (4, 7), 9, 15]
DTYPES = [np.float32, np.float64, np.uint8]


def data(rng, shape, dtype):
    if dtype == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)  # many ties
    return rng.standard_normal(shape).astype(dtype)


def scipy_median(x, size, layout="NCHW", mode="reflect"):
    h, w = (size, size) if np.isscalar(size) else size
    spatial = (h, w, 1) if layout == "NHWC" else (h, w)
    return ndimage.median_filter(x, size=(1,) * (x.ndim - len(spatial)) + spatial, mode=mode)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("mode", ["reflect", "mirror"])
def test_matches_scipy(backend, rng, dtype, size, layout, mode):
    h, w = (size, size) if np.isscalar(size) else size
    H, W = max(h, 13), max(w, 11) + 6  # odd and even image sizes
    shape = (2, H, W, 3) if layout == "NHWC" else (2, 3, H, W)
    x = data(rng, shape, dtype)
    got = host(mk.median_filter(dev(x, backend), size, layout=layout, mode=mode, backend=backend))
    assert got.dtype == dtype and got.shape == x.shape
    want = scipy_median(x, size, layout, mode)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, ref.median_filter(x, size, layout=layout, mode=mode).astype(dtype))


@pytest.mark.parametrize("size", [2, 3, 5, 6])
def test_large_batch_threads(backend, rng, size):
    """Enough work for the thread pool: rows split between threads must still agree."""
    x = rng.random((3, 3, 67, 93)).astype(np.float32)
    got = host(mk.median_filter(dev(x, backend), size, backend=backend))
    np.testing.assert_array_equal(got, scipy_median(x, size))


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_video_5d(backend, rng, layout, dtype):
    shape = (2, 3, 9, 10, 3) if layout == "NHWC" else (2, 3, 3, 9, 10)
    x = data(rng, shape, dtype)
    got = host(mk.median_filter(dev(x, backend), (3, 4), layout=layout, backend=backend))
    np.testing.assert_array_equal(got, scipy_median(x, (3, 4), layout))


@pytest.mark.parametrize("size", [(1, 2), (2, 2), (3, 3), (4, 5)])
def test_window_as_large_as_the_image(backend, rng, size):
    x = rng.random((1, 2) + tuple(size)).astype(np.float32)
    for mode in ("reflect", "mirror"):
        got = host(mk.median_filter(dev(x, backend), size, mode=mode, backend=backend))
        np.testing.assert_array_equal(got, scipy_median(x, size, mode=mode))


def test_non_contiguous_and_out(host_backend, rng):
    x = rng.random((2, 3, 20, 30)).astype(np.float32)[:, :, ::2, 1::2]
    out = np.empty((2, 3, 10, 15), np.float32)
    got = mk.median_filter(x, 3, out=out, backend=host_backend)
    assert got is out
    np.testing.assert_array_equal(out, scipy_median(np.ascontiguousarray(x), 3))


def test_empty_batch(host_backend):
    x = np.zeros((0, 3, 8, 8), np.float32)
    assert mk.median_filter(x, 3, backend=host_backend).shape == x.shape


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(size=0), ValueError, "size must be in 1..15"),
        (dict(size=16), ValueError, "size must be in 1..15"),
        (dict(size=(3, 0)), ValueError, "size must be in 1..15"),
        (dict(size=2.0), TypeError, "size must be an integer"),
        (dict(size=(2, 2, 2)), ValueError, "size must be an int or a pair"),
        (dict(size=9), ValueError, r"size \(9, 9\) is larger than the image \(8, 7\)"),
        (dict(layout="NHWC", size=4), ValueError, r"size \(4, 4\) is larger than the image \(3, 8\)"),
        (dict(layout="CHW"), ValueError, "layout must be 'NCHW' or 'NHWC'"),
        (dict(mode="nearest"), ValueError, "mode must be 'reflect' or 'mirror'"),
        (dict(x=np.zeros((3, 8, 7), np.float32)), ValueError, "x must be 4-D .* or 5-D .*, got 3-D"),
        (dict(x=np.zeros((2, 3, 8, 7), np.int16)), TypeError, "x must be float32 or float64 or uint8"),
        (dict(out=np.zeros((2, 3, 8, 8), np.float32)), ValueError, "out must have.*shape"),
        (dict(backend="cuda"), ValueError, "needs device arrays"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(x=np.zeros((2, 3, 8, 7), np.float32), size=3, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.median_filter(args.pop("x"), args.pop("size"), **args)


def test_out_overlapping_x_refused(host_backend):
    x = np.zeros((2, 3, 8, 7), np.float32)
    with pytest.raises(ValueError, match="out must not overlap x"):
        mk.median_filter(x, 3, out=x, backend=host_backend)


@settings(max_examples=60, deadline=None)
@given(
    H=st.integers(1, 12),
    W=st.integers(1, 12),
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    layout=st.sampled_from(["NCHW", "NHWC"]),
    mode=st.sampled_from(["reflect", "mirror"]),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_properties(H, W, h, w, layout, mode, dtype, seed):
    """Any image and window that fits: SciPy's answer, on every host backend."""
    h, w = min(h, H), min(w, W)
    shape = (2, H, W, 2) if layout == "NHWC" else (2, 2, H, W)
    x = data(np.random.default_rng(seed), shape, dtype)
    want = scipy_median(x, (h, w), layout, mode)
    for b in ("cpp", "numba"):
        np.testing.assert_array_equal(mk.median_filter(x, (h, w), layout=layout, mode=mode, backend=b), want)


def test_torch_tensors_round_trip(rng):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
    x = torch.rand(2, 3, 9, 10)
    got = mk.median_filter(x, 3)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_array_equal(got.numpy(), scipy_median(x.numpy(), 3))
