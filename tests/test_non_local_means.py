import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import dev, host, skip_unless

PARAMS = [dict(h=10.0), dict(h=4.0, template_size=1, search_size=5), dict(h=25.0, template_size=5, search_size=7)]


def image(rng, shape, dtype):
    """A smooth image plus noise, on the 0..255 scale Xu et al. use."""
    yy, xx = np.meshgrid(np.linspace(0, 3, shape[-2]), np.linspace(0, 3, shape[-1]), indexing="ij")
    clean = 127 + 100 * np.sin(yy + xx)
    x = np.clip(clean + rng.normal(0, 12, shape), 0, 255)
    return x.astype(dtype) if dtype != np.uint8 else np.rint(x).astype(np.uint8)


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_matches_reference(backend, rng, params, dtype):
    x = image(rng, (2, 3, 15, 17), dtype)
    got = host(mk.non_local_means(dev(x, backend), **params, backend=backend))
    assert got.dtype == dtype and got.shape == x.shape
    want = ref.non_local_means(x, **params)
    if dtype == np.uint8:
        # float32 vs float64 sums: only a quotient within ~1e-5 of a half may round the other way
        diff = np.abs(got.astype(int) - want)
        assert diff.max() <= 1 and np.mean(diff) < 1e-3
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_host_backends_agree_to_the_bit(rng, dtype):
    """cpp (banded, vectorised) and numba (per pixel) sum in the same order: same bits."""
    x = image(rng, (3, 2, 41, 37), dtype)  # several row bands, enough work for threads
    a = mk.non_local_means(x, h=8.0, backend="cpp")
    b = mk.non_local_means(x, h=8.0, backend="numba")
    np.testing.assert_array_equal(a, b)


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_cuda_agrees_with_cpp_to_the_bit(rng, dtype):
    """Same header math (exp_f32, summation order) on the GPU: the same bits."""
    skip_unless("cuda")
    x = image(rng, (2, 3, 19, 23), dtype)
    got = host(mk.non_local_means(dev(x, "cuda"), h=8.0, backend="cuda"))
    np.testing.assert_array_equal(got, mk.non_local_means(x, h=8.0, backend="cpp"))


@pytest.mark.parametrize("shape", [(1, 1, 4, 5), (1, 2, 1, 9), (2, 1, 3, 3)])
def test_images_smaller_than_the_search_window(backend, rng, shape):
    x = image(rng, shape, np.float32)
    got = host(mk.non_local_means(dev(x, backend), h=10.0, backend=backend))
    np.testing.assert_allclose(got, ref.non_local_means(x, h=10.0), rtol=1e-5, atol=2e-3)


def test_layouts_and_video(backend, rng):
    x = image(rng, (2, 2, 3, 11, 12), np.uint8)  # (N, T, C, H, W)
    a = host(mk.non_local_means(dev(x, backend), h=6.0, backend=backend))
    xt = np.ascontiguousarray(np.moveaxis(x, 2, -1))
    b = host(mk.non_local_means(dev(xt, backend), h=6.0, layout="NHWC", backend=backend))
    np.testing.assert_array_equal(np.moveaxis(b, -1, 2), a)


def test_denoises(rng):
    """The point of the op: closer to the clean image than the noisy input is."""
    ramp = np.linspace(0, 3, 32)
    clean = (127 + 100 * np.sin(np.add.outer(ramp, ramp)))[None, None]
    noisy = (clean + rng.normal(0, 10, clean.shape)).astype(np.float32)
    out = mk.non_local_means(noisy, h=10.0)
    assert np.mean((out - clean) ** 2) < 0.6 * np.mean((noisy - clean) ** 2)


def test_close_to_opencv(rng):
    cv2 = pytest.importorskip(
        "cv2", reason="OpenCV (cv2) is not installed; the comparison with fastNlMeansDenoising is skipped"
    )
    x = image(rng, (2, 3, 32, 32), np.uint8)
    got = mk.non_local_means(x, h=6.0, template_size=3, search_size=13)
    want = np.stack([[cv2.fastNlMeansDenoising(np.ascontiguousarray(p), None, 6.0, 3, 13) for p in s] for s in x])
    # Same formula; OpenCV uses fixed-point weights, drops weights under 0.001, rounds differently.
    psnr = 10 * np.log10(255.0**2 / np.mean((got.astype(float) - want) ** 2))
    assert psnr > 55, psnr


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(h=0.0), ValueError, "h must be finite and > 0"),
        (dict(h=float("inf")), ValueError, "h must be finite and > 0"),
        (dict(h=None), TypeError, "h must be a number"),
        (dict(template_size=4), ValueError, "template_size must be odd"),
        (dict(search_size=0), ValueError, "search_size must be odd"),
        (dict(search_size=47), ValueError, "search_size must be odd, in 1..45"),
        (dict(layout="HWC"), ValueError, "layout must be 'NCHW' or 'NHWC'"),
        (dict(x=np.zeros((2, 3, 8, 7), np.float64)), TypeError, "x must be float32 or uint8"),
        (dict(x=np.zeros((8, 7), np.float32)), ValueError, "x must be 4-D"),
        (dict(out=np.zeros((2, 3, 8, 7), np.uint8)), TypeError, "out must have.*dtype"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(x=np.zeros((2, 3, 8, 7), np.float32), h=3.0, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.non_local_means(args.pop("x"), **args)


def test_out_overlapping_x_refused(host_backend):
    x = np.zeros((2, 3, 8, 7), np.float32)
    with pytest.raises(ValueError, match="out must not overlap x"):
        mk.non_local_means(x, h=3.0, out=x, backend=host_backend)


@pytest.mark.parametrize("shape, layout", [((1, 1, 1, 0), "NCHW"), ((1, 1, 0, 1), "NHWC"), ((0, 3, 4, 4), "NCHW")])
def test_zero_size_returns_at_once(host_backend, shape, layout):
    # an image without pixels once crashed (template 1) or hung (the default windows)
    for dtype in (np.float32, np.uint8):
        x = np.zeros(shape, dtype)
        for t, s in ((1, 1), (3, 13)):
            r = mk.non_local_means(x, h=1.0, template_size=t, search_size=s, layout=layout, backend=host_backend)
            assert r.shape == shape and r.dtype == dtype
