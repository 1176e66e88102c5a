import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import cpu_module, dev, host, peer

CASES = [  # (shape NCHW, out_size, min_size)
    ((1, 1, 1, 1), 3, None),
    ((3, 2, 7, 5), 11, None),
    ((2, 3, 13, 17), 20, 4),  # downscaling too
    ((5, 1, 9, 9), 9, None),  # size == out_size
    ((4, 3, 30, 30), 37, 30),
]


INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


def _nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def _ints(rng, dtype, shape):
    """Integers over the dtype's whole range: bilinear mixes of neighbours at both ends
    saturate, and 64-bit values above 2^53 show that nearest copies them exactly."""
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    x[:, :, :2] = info.max  # flat areas at the extremes: mixes with weights summing past 1
    x[:, :, -2:] = info.min
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("per_sample", [True, False])
def test_matches_reference(backend, rng, dtype, interpolation, layout, case, per_sample):
    shape, s, m = case
    x = rng.random(shape).astype(dtype)
    x = _nhwc(x) if layout == "NHWC" else x
    kw = dict(min_size=m, interpolation=interpolation, layout=layout, per_sample=per_sample)
    got, params = mk.random_resize_pad(dev(x, backend), s, seed=3, return_params=True, backend=backend, **kw)
    got = host(got)
    assert got.dtype == dtype
    want = ref.transforms.random_resize_pad(x, s, seed=3, **kw)
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-7 if dtype == np.float32 else 1e-15)
    p = ref.transforms.resize_pad_params(shape[0], max(shape[2:]) if m is None else m, s, seed=3, per_sample=per_sample)
    np.testing.assert_array_equal(params, p)


@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_integers_match_reference(backend, rng, dtype, interpolation, layout):
    # the dtype is kept: nearest copies, bilinear mixes in float64 and rounds half to even,
    # saturated to the dtype's range (reference.transforms.saturate_rint)
    x = _ints(rng, dtype, (3, 2, 13, 17))
    x = _nhwc(x) if layout == "NHWC" else x
    kw = dict(min_size=4, interpolation=interpolation, layout=layout)
    got = host(mk.random_resize_pad(dev(x, backend), 20, seed=5, backend=backend, **kw))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, ref.transforms.random_resize_pad(x, 20, seed=5, **kw))


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, np.uint32, np.int64, np.uint64])
def test_integer_flat_image_keeps_its_value(host_backend, dtype):
    # a bilinear mix of equal values is that value, at the dtype's extremes too (the weights
    # sum to 1: OpenCV's float32 ones would move a flat int32 image by up to 64); 64-bit
    # values are mixed in float64, so only those it holds exactly keep theirs
    info = np.iinfo(dtype)
    for v in (info.max, info.min, 7, info.max // 3 if np.dtype(dtype).itemsize < 8 else 2**40 + 1):
        x = np.full((4, 2, 9, 7), v, dtype)
        got, p = mk.random_resize_pad(
            x, 16, min_size=3, seed=1, interpolation="bilinear", return_params=True, backend=host_backend
        )
        for r, (size, top, left) in enumerate(p):
            assert np.all(got[r, :, top : top + size, left : left + size] == v)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_backends_bit_identical(backend, rng, interpolation, layout):
    x = rng.random((6, 3, 23, 19)).astype(np.float32)
    x = _nhwc(x) if layout == "NHWC" else x
    kw = dict(seed=8, interpolation=interpolation, layout=layout, min_size=10)
    want = mk.random_resize_pad(x, 31, backend=peer(backend), **kw)
    np.testing.assert_array_equal(host(mk.random_resize_pad(dev(x, backend), 31, backend=backend, **kw)), want)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.uint16])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_matches_opencv(rng, dtype, interpolation):
    # float32 within rounding; integers within one level for bilinear (OpenCV's 8-bit path
    # mixes in 11-bit fixed point, its 16-bit one in float32), nearest exact
    cv2 = pytest.importorskip("cv2", reason="OpenCV (opencv-python-headless) not installed: comparison skipped")
    flag = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR}[interpolation]
    x = rng.random((8, 3, 31, 29)).astype(np.float32) if dtype == np.float32 else _ints(rng, dtype, (8, 3, 31, 29))
    got, params = mk.random_resize_pad(x, 45, min_size=10, seed=1, interpolation=interpolation, return_params=True)
    atol = 3e-7 if dtype == np.float32 else (1 if interpolation == "bilinear" else 0)
    for r, (size, top, left) in enumerate(params):
        for ch in range(3):
            want = cv2.resize(x[r, ch], (int(size), int(size)), interpolation=flag)
            part = got[r, ch, top : top + size, left : left + size]
            np.testing.assert_allclose(part.astype(np.float64), want.astype(np.float64), rtol=0, atol=atol)
        mask = np.ones((45, 45), bool)
        mask[top : top + size, left : left + size] = False
        assert np.all(got[r][:, mask] == 0)


def test_size_and_offset_distribution():
    n, lo, hi = 60000, 224, 248
    # the parameters alone: 60000 output images would take 14.7 GB. A small call shows the op
    # draws exactly these (the parameters of sample r do not depend on the batch size).
    p = mk.transforms.resize_pad_params(n, lo, hi, 5, 0)
    small = mk.random_resize_pad(np.zeros((7, 1, 1, 1), np.float32), hi, min_size=lo, seed=5, return_params=True)[1]
    np.testing.assert_array_equal(small, p[:7])
    size, top, left = p.T
    assert size.min() == lo and size.max() == hi - 1
    assert stats.chisquare(np.bincount(size - lo, minlength=hi - lo)).pvalue > 1e-3
    for s in (lo, lo + 10, hi - 1):  # given the size, offsets uniform on [0, out - size]
        for off in (top[size == s], left[size == s]):
            assert off.min() >= 0 and off.max() <= hi - s
            assert stats.chisquare(np.bincount(off, minlength=hi - s + 1)).pvalue > 1e-4
    sel = size == lo  # top and left both shrink with the size; given it, independent
    assert abs(np.corrcoef(top[sel], left[sel])[0, 1]) < 0.06


def test_per_sample_false_and_generator(rng):
    x = rng.random((5, 2, 8, 8)).astype(np.float32)
    out, p = mk.random_resize_pad(x, 12, seed=4, per_sample=False, return_params=True)
    assert np.all(p == p[0])
    g = mk.Generator(4)
    np.testing.assert_array_equal(mk.random_resize_pad(x, 12, seed=g, per_sample=False), out)
    assert g.next_substream() == 1
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
    got = mk.random_resize_pad(torch.from_numpy(x), 12, seed=4, per_sample=False)
    assert isinstance(got, torch.Tensor) and got.shape == (5, 2, 12, 12)
    np.testing.assert_array_equal(got.numpy(), out)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(out_size=7), ValueError, "out_size must be >= the input's sides"),
        (dict(min_size=13), ValueError, "min_size must be in"),
        (dict(min_size=0), ValueError, "min_size must be in"),
        (dict(out_size=12.5), TypeError, "out_size must be an int"),
        (dict(interpolation="cubic"), ValueError, "interpolation must be one of"),
        (dict(layout="CHW"), ValueError, "layout must be one of"),
        (dict(x=np.zeros((2, 8, 8), np.float32)), ValueError, "4 axes"),
        (dict(x=np.zeros((2, 1, 8, 8), bool)), TypeError, "x must be float32, float64 or an integer dtype, got bool"),
        (dict(x=np.zeros((2, 1, 8, 8), np.float16)), TypeError, "x must be .* integer dtype, got float16"),
        (dict(x=np.zeros((2, 1, 8, 8), np.complex64)), TypeError, "x must be .* integer dtype, got complex64"),
        (dict(x=np.zeros((2, 1, 8, 8), object)), TypeError, "x must be .* integer dtype, got object"),
        (dict(out=np.zeros((2, 1, 8, 8), np.float32)), ValueError, "out must have shape"),
        (dict(out_size=8, out="x"), ValueError, "out must not be x"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(x=np.zeros((2, 1, 8, 8), np.float32), out_size=12, seed=1, backend=host_backend)
    args.update(kwargs)
    if isinstance(args.get("out"), str):
        args["out"] = args["x"]
    with pytest.raises(err, match=match):
        mk.random_resize_pad(args.pop("x"), args.pop("out_size"), **args)


def test_binding_checks():
    cpu = cpu_module()
    x, out = np.zeros((2, 1, 4, 4), np.float32), np.zeros((2, 1, 6, 6), np.float32)
    with pytest.raises(ValueError, match="does not fit"):
        cpu.random_resize_pad(x, np.array([[5, 2, 0], [4, 0, 0]], np.int32), 6, "NCHW", "nearest", out)
    with pytest.raises(ValueError, match="params must be"):
        cpu.random_resize_pad(x, np.zeros((2, 3), np.int64), 6, "NCHW", "nearest", out)
    with pytest.raises(ValueError, match="out_size must be"):
        cpu.random_resize_pad(x, np.full((2, 3), 1, np.int32), 3, "NCHW", "nearest", out)
    with pytest.raises(ValueError, match="out must not be x"):
        cpu.random_resize_pad(x, np.array([[4, 0, 0], [4, 0, 0]], np.int32), 4, "NCHW", "nearest", x)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 3),
    c=st.integers(1, 3),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    extra=st.integers(0, 6),
    interpolation=st.sampled_from(["nearest", "bilinear"]),
    seed=st.integers(0, 2**64 - 1),
)
def test_property_shapes(n, c, h, w, extra, interpolation, seed):
    x = np.random.default_rng(seed % 1000).random((n, c, h, w))
    s = max(h, w) + extra
    got, p = mk.random_resize_pad(x, s, seed=seed, interpolation=interpolation, return_params=True)
    assert got.shape == (n, c, s, s) and p.shape == (n, 3)
    np.testing.assert_allclose(
        got, ref.transforms.random_resize_pad(x, s, seed=seed, interpolation=interpolation), rtol=0, atol=1e-15
    )
