"""median_filter against scipy.ndimage.median_filter (and the exact reference, which is
checked against SciPy too) on every real dtype, window, layout and mode, on every backend.

Where SciPy is not exact the tests say so and compare with the reference alone: SciPy's
rank filter selects in float64, so int64/uint64 values beyond 2**53 come back rounded; its
reflect mode reads outside the image for a window reaching 4n or more before the start of
an axis of length n (an offset at an exact multiple of 2n, not folded back: ni_support.c,
NI_InitFilterOffsets); and it returns
an arbitrary window element where the window holds a NaN, which this op makes NaN."""

import pathlib
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import dev, host

ROOT = pathlib.Path(__file__).resolve().parents[1]
FLOATS = [np.float32, np.float64]
INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
DTYPES = FLOATS + INTS
MODES = ["reflect", "mirror"]
# unrolled networks (square to 7), table networks, ranks (larger, non-square, above 15)
SIZES = [1, 2, 3, 4, 5, 6, 7, (1, 3), (3, 1), (2, 5), (4, 7), (5, 9), 9, 11, 15, 16, 17, (1, 31), 25]


def data(rng, shape, dtype, exact53=True):
    """Fresh random values over the dtype's range (within +-2**53 where SciPy must agree:
    it selects in float64), many ties for the narrow integers."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    info = np.iinfo(dtype)
    lo, hi = (max(info.min, -(2**53)), min(info.max, 2**53)) if exact53 else (info.min, info.max)
    return rng.integers(lo, hi, shape, dtype=dtype, endpoint=True)


def pair(size):
    return (size, size) if np.isscalar(size) else tuple(size)


def scipy_median(x, size, layout="NCHW", mode="reflect"):
    h, w = pair(size)
    spatial = (h, w, 1) if layout == "NHWC" else (h, w)
    return ndimage.median_filter(x, size=(1,) * (x.ndim - len(spatial)) + spatial, mode=mode)


def scipy_defined(H, W, size, mode):
    """False where SciPy's reflect mode reads outside the image (a fold at a multiple of 2n)."""
    h, w = pair(size)
    return mode != "reflect" or ((H == 1 or h // 2 < 4 * H) and (W == 1 or w // 2 < 4 * W))


def run(x, size, backend, **kw):
    return host(mk.median_filter(dev(x, backend), size, backend=backend, **kw))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_matches_scipy(backend, rng, dtype, layout):
    H, W = 19, 22  # odd and even; the larger windows reach past both edges
    x = data(rng, (2, H, W, 3) if layout == "NHWC" else (2, 3, H, W), dtype)
    for size in SIZES:
        for mode in MODES:
            got = run(x, size, backend, layout=layout, mode=mode)
            assert got.dtype == x.dtype and got.shape == x.shape
            want = scipy_median(x, size, layout, mode)
            np.testing.assert_array_equal(got, want, err_msg=f"size={size} mode={mode}")
            np.testing.assert_array_equal(ref.median_filter(x, size, layout=layout, mode=mode), want)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.int16, np.int64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("hw", [(1, 1), (1, 5), (2, 3), (3, 2), (5, 4)])
def test_windows_larger_than_the_image(backend, rng, dtype, hw):
    """Windows up to ~10x the image fold the extension again and again."""
    H, W = hw
    x = data(rng, (2, 2, H, W), dtype)
    for size in [(2, 2), (3, 3), (7, 5), (9, 9), (12, 17), (20, 3), (1, 41), (41, 1)]:
        for mode in MODES:
            got = run(x, size, backend, mode=mode)
            want = ref.median_filter(x, size, mode=mode)
            np.testing.assert_array_equal(got, want, err_msg=f"size={size} mode={mode}")
            if scipy_defined(H, W, size, mode):
                np.testing.assert_array_equal(got, scipy_median(x, size, mode=mode), err_msg=f"{size} {mode}")


def test_reference_extension_matches_scipy_where_defined(rng):
    """The reference's closed-form extension against SciPy's, for every window up to 8x the
    image on short axes (where SciPy folds correctly)."""
    for H in (1, 2, 3, 5):
        for h in range(1, 8 * H + 2):
            x = rng.integers(-1000, 1000, (1, 1, H, 3), dtype=np.int32)
            for mode in MODES:
                if scipy_defined(H, 3, (h, 1), mode):
                    want = scipy_median(x, (h, 1), mode=mode)
                    np.testing.assert_array_equal(ref.median_filter(x, (h, 1), mode=mode), want, err_msg=f"{H} {h}")


@pytest.mark.parametrize("dtype", [np.int64, np.uint64, np.int32, np.uint32, np.int8], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("size", [3, (2, 5), 9, 17])
def test_integer_extremes_exact(backend, rng, dtype, size):
    """The dtype's min and max and their neighbours, beyond 2**53: exact (SciPy rounds them)."""
    info = np.iinfo(dtype)
    values = np.array([info.min, info.min + 1, info.max - 1, info.max, 0, 1], dtype=dtype)
    x = rng.choice(values, (2, 3, 13, 15))
    got = run(x, size, backend)
    np.testing.assert_array_equal(got, ref.median_filter(x, size))
    assert got.dtype == x.dtype


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("size", [2, 3, 5, 7, (3, 5), 9, 16, (1, 20)])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_nan_windows_give_nan(backend, rng, dtype, size, layout):
    """A window holding a NaN gives NaN (np.median's rule); every other window is SciPy's.
    Infinities and signed zeros are ordinary values."""
    x = data(rng, (2, 17, 19, 2) if layout == "NHWC" else (2, 2, 17, 19), dtype)
    flat, at = x.reshape(-1), rng.permutation(x.size)
    flat[at[:3]] = np.nan  # three: some planes hold none
    flat[at[3:43]], flat[at[43:83]], flat[at[83:123]] = np.inf, -np.inf, -0.0
    for mode in MODES:
        got = run(x, size, backend, layout=layout, mode=mode)
        want = ref.median_filter(x, size, layout=layout, mode=mode)
        np.testing.assert_array_equal(got, want)
        nan = np.isnan(want)
        assert 0 < nan.sum() < nan.size
        np.testing.assert_array_equal(got[~nan], scipy_median(x, size, layout, mode)[~nan])
        # the NaN written is NumPy's: the same bits on every backend
        assert (got[nan].view(f"u{x.itemsize}") == np.array(np.nan, dtype).view(f"u{x.itemsize}")).all()


@pytest.mark.parametrize("size", [3, 4, 9, 31])
@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.uint16], ids=lambda d: np.dtype(d).name)
def test_large_batch_threads(backend, rng, dtype, size):
    """Enough work for the thread pool: rows split between threads must still agree."""
    x = data(rng, (3, 3, 67, 93), dtype)
    np.testing.assert_array_equal(run(x, size, backend), scipy_median(x, size))


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("dtype", [np.float64, np.int32, np.uint8], ids=lambda d: np.dtype(d).name)
def test_video_5d(backend, rng, layout, dtype):
    x = data(rng, (2, 3, 9, 10, 3) if layout == "NHWC" else (2, 3, 3, 9, 10), dtype)
    for size in [(3, 4), 11]:
        np.testing.assert_array_equal(run(x, size, backend, layout=layout), scipy_median(x, size, layout))


@pytest.mark.parametrize("dtype", [np.float32, np.int16, np.uint64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("size", [3, 12])
def test_non_contiguous_and_out(host_backend, rng, dtype, size):
    """A strided x, and results written into the caller's out= (contiguous or strided)."""
    big = data(rng, (2, 3, 30, 40), dtype)
    x = big[:, :, ::2, 1::2]
    want = scipy_median(np.ascontiguousarray(x), size)
    out = np.empty(x.shape, dtype)
    assert mk.median_filter(x, size, out=out, backend=host_backend) is out
    np.testing.assert_array_equal(out, want)
    holder = np.zeros((2, 3, 15, 40), dtype)
    strided = holder[:, :, :, ::2]
    assert mk.median_filter(x, size, out=strided, backend=host_backend) is strided
    np.testing.assert_array_equal(holder[:, :, :, ::2], want)
    assert not holder[:, :, :, 1::2].any()  # nothing written between the out's elements


@pytest.mark.parametrize(
    "shape", [(0, 3, 8, 8), (2, 0, 8, 8), (2, 3, 0, 8), (2, 3, 8, 0)], ids=["batch", "channels", "rows", "columns"]
)
def test_empty(host_backend, shape):
    x = np.zeros(shape, np.int16)
    got = mk.median_filter(x, 5, backend=host_backend)
    assert got.shape == x.shape and got.dtype == x.dtype
    assert scipy_median(x, 5).shape == shape  # SciPy returns the empty array too


WINDOW = "size must be at least 1 along each axis and at most 1048576 pixels in all"
DTYPE = "x must be float32, float64 or an integer dtype"


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(size=0), ValueError, WINDOW + r", got \(0, 0\)"),
        (dict(size=(3, 0)), ValueError, WINDOW),
        (dict(size=(-1, 3)), ValueError, WINDOW),
        (dict(size=1025), ValueError, WINDOW + r", got \(1025, 1025\)"),
        (dict(size=(2**40, 1)), ValueError, WINDOW),
        (dict(size=2.0), TypeError, "size must be an integer"),
        (dict(size=True), TypeError, "size must be an integer"),
        (dict(size=(2, 2, 2)), ValueError, "size must be an int or a pair"),
        (dict(layout="CHW"), ValueError, "layout must be 'NCHW' or 'NHWC'"),
        (dict(mode="nearest"), ValueError, "mode must be 'reflect' or 'mirror'"),
        (dict(x=np.zeros((3, 8, 7), np.float32)), ValueError, "x must be 4-D .* or 5-D .*, got 3-D"),
        (dict(x=np.zeros((2, 3, 8, 7), bool)), TypeError, DTYPE + ", got bool"),
        (dict(x=np.zeros((2, 3, 8, 7), np.float16)), TypeError, DTYPE + ", got float16"),
        (dict(x=np.zeros((2, 3, 8, 7), np.complex64)), TypeError, DTYPE + ", got complex64"),
        (dict(x=np.zeros((2, 3, 8, 7), object)), TypeError, DTYPE + ", got object"),
        (dict(x=np.zeros((2, 3, 8, 7), "M8[s]")), TypeError, DTYPE + r", got datetime64\[s\]"),
        (dict(out=np.zeros((2, 3, 8, 8), np.float32)), ValueError, "out must have.*shape"),
        (dict(out=np.zeros((2, 3, 8, 7), np.float64)), TypeError, "out must have.*dtype"),
        (dict(backend="cuda"), ValueError, "needs device arrays"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    """The same exception and message on the fast path (auto), cpp and numba."""
    args = dict(x=np.zeros((2, 3, 8, 7), np.float32), size=3, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.median_filter(args.pop("x"), args.pop("size"), **args)


def test_out_overlapping_x_refused(host_backend):
    x = np.zeros((2, 3, 8, 7), np.uint16)
    with pytest.raises(ValueError, match="out must not overlap x"):
        mk.median_filter(x, 3, out=x, backend=host_backend)


@settings(max_examples=80, deadline=None)
@given(
    H=st.integers(1, 12),
    W=st.integers(1, 12),
    h=st.integers(1, 30),
    w=st.integers(1, 30),
    layout=st.sampled_from(["NCHW", "NHWC"]),
    mode=st.sampled_from(MODES),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**32 - 1),
)
def test_properties(H, W, h, w, layout, mode, dtype, seed):
    """Any image and window, the window up to 30x the image: the reference's answer (SciPy's
    where SciPy is defined), on every host backend."""
    shape = (2, H, W, 2) if layout == "NHWC" else (2, 2, H, W)
    x = data(np.random.default_rng(seed), shape, dtype, exact53=False)
    want = ref.median_filter(x, (h, w), layout=layout, mode=mode)
    if scipy_defined(H, W, (h, w), mode) and (np.dtype(dtype).itemsize < 8 or np.dtype(dtype).kind == "f"):
        np.testing.assert_array_equal(want, scipy_median(x, (h, w), layout, mode))
    for b in ("cpp", "numba"):
        np.testing.assert_array_equal(mk.median_filter(x, (h, w), layout=layout, mode=mode, backend=b), want)


@pytest.fixture(scope="module")
def gpu_math(tmp_path_factory):
    """tests/native/median_pixel.cpp built with the host compiler: the CUDA kernel's per-pixel
    function (median_at) run on the CPU."""
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("no C++ compiler on PATH to build tests/native/median_pixel.cpp")
    exe = tmp_path_factory.mktemp("native") / "median_pixel"
    flags = ["-std=c++17", "-O2", "-ffp-contract=off", f"-I{ROOT / 'cpp'}"]
    subprocess.run([cxx, *flags, str(ROOT / "tests/native/median_pixel.cpp"), "-o", str(exe)], check=True, timeout=300)
    codes = {np.dtype(t): i for i, t in enumerate(DTYPES)}

    def median(x, size, mode="reflect"):
        h, w = pair(size)
        head = np.array([codes[x.dtype], x.shape[0] * x.shape[1], *x.shape[2:], h, w, MODES.index(mode)], np.int64)
        r = subprocess.run([str(exe)], input=head.tobytes() + x.tobytes(), capture_output=True, check=True, timeout=120)
        return np.frombuffer(r.stdout, x.dtype).reshape(x.shape)

    return median


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_gpu_per_pixel_math(gpu_math, rng, dtype):
    """The CUDA kernel's arithmetic: the 3x3 closed form, selection in local memory (up to
    225 pixels) and the radix selection beyond, on the CPU, against the reference."""
    x = data(rng, (1, 2, 9, 11), dtype, exact53=False)
    if np.dtype(dtype).kind == "f":
        x[0, 0, 4, 5] = np.nan
        x[0, 1, 0, 0] = -0.0
    for size in [1, 2, 3, (4, 7), 15, (15, 16), 17, (1, 40), (30, 2)]:
        for mode in MODES:
            got = gpu_math(x, size, mode)
            np.testing.assert_array_equal(got, ref.median_filter(x, size, mode=mode), err_msg=f"{size} {mode}")


def test_torch_tensors_round_trip(rng):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
    for t in (torch.rand(2, 3, 9, 10), torch.randint(-500, 500, (2, 3, 9, 10), dtype=torch.int16)):
        got = mk.median_filter(t, 3)
        assert isinstance(got, torch.Tensor) and got.dtype == t.dtype
        np.testing.assert_array_equal(got.numpy(), scipy_median(t.numpy(), 3))
