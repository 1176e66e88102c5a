import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import dev, host, tol

SHAPES = [
    (0, 3),
    (4,),
    (1, 1),
    (3, 7),
    (5, 3, 11, 13),
    (2, 70001),
]  # odd sizes; the last crosses the threading threshold


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("targeted", [False, True])
def test_matches_reference(backend, rng, dtype, shape, targeted):
    x = rng.random(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    g.flat[:: max(1, g.size // 5)] = 0  # sign(0) = 0
    eps = rng.random(shape[0]) * 0.1  # per-sample
    got = mk.fgsm(dev(x, backend), dev(g, backend), eps, targeted=targeted, backend=backend)
    assert host(got).dtype == dtype
    np.testing.assert_allclose(host(got), ref.fgsm(x, g, eps, targeted=targeted), **tol(dtype))


def test_in_place_and_scalar_eps(backend, rng):
    x = rng.random((4, 33)).astype(np.float32)
    g = rng.standard_normal((4, 33)).astype(np.float32)
    want = ref.fgsm(x, g, 0.03, clip=(0.1, 0.9))
    xd = dev(x, backend)
    got = mk.fgsm(xd, dev(g, backend), 0.03, clip=(0.1, 0.9), out=xd, backend=backend)
    assert got is xd
    np.testing.assert_allclose(host(xd), want, **tol(np.float32))


def test_non_contiguous_inputs_and_out(host_backend, rng):
    x = rng.random((6, 10, 8))[:, ::2, 1::2]
    g = rng.standard_normal((8, 5, 6)).transpose(2, 1, 0)[:, :, :4]
    out = np.full((6, 10, 8), -7.0)[:, 1::2, ::2]
    got = mk.fgsm(x, g, 0.2, clip=None, out=out, backend=host_backend)
    assert got is out
    np.testing.assert_allclose(out, ref.fgsm(x, g, 0.2, clip=None), **tol(np.float64))


def test_nan_propagates(host_backend):
    x = np.array([[0.5, np.nan, 0.5]], dtype=np.float32)
    g = np.array([[np.nan, 1.0, -1.0]], dtype=np.float32)
    got = mk.fgsm(x, g, 0.1, backend=host_backend)
    assert np.isnan(got[0, 0]) and np.isnan(got[0, 1]) and got[0, 2] == np.float32(0.4)


def test_torch_tensors_round_trip(rng):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
    x = torch.rand(3, 5)
    g = torch.randn(3, 5)
    got = mk.fgsm(x, g, 0.1)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy(), ref.fgsm(x.numpy(), g.numpy(), 0.1), **tol(np.float32))


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(grad=np.zeros((3, 4), np.float32)), ValueError, "grad must have the shape"),
        (dict(grad=np.zeros((2, 4), np.float64)), TypeError, "grad must have the dtype"),
        (dict(eps=-0.1), ValueError, "eps must be finite and >= 0"),
        (dict(eps=float("nan")), ValueError, "eps must be finite"),
        (dict(eps=np.array([0.1, 0.2, 0.3])), ValueError, "eps must be a scalar or have one value per sample"),
        (dict(eps=[0.1, -0.2]), ValueError, "eps must be finite and >= 0"),
        (dict(clip=(1.0, 0.0)), ValueError, "clip must be"),
        (dict(out=np.zeros((2, 5), np.float32)), ValueError, "out must have.*shape"),
        (dict(out=np.zeros((2, 4), np.float64)), TypeError, "out must have.*dtype"),
        (
            dict(x=np.zeros((2, 4), np.int32), grad=np.zeros((2, 4), np.int32)),
            TypeError,
            "x must be float32 or float64",
        ),
        (dict(backend="gpu"), ValueError, "backend must be one of"),
        (dict(backend="cuda"), ValueError, "needs device arrays"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(x=np.zeros((2, 4), np.float32), grad=np.zeros((2, 4), np.float32), eps=0.1, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.fgsm(args.pop("x"), args.pop("grad"), args.pop("eps"), **args)


def test_partial_overlap_refused():
    buf = np.zeros(10, np.float32)
    x, out = buf[:8].reshape(2, 4), buf[2:].reshape(2, 4)
    with pytest.raises(ValueError, match="overlaps"):
        mk.fgsm(x, np.ones((2, 4), np.float32), 0.1, out=out, backend="cpp")


@settings(max_examples=60, deadline=None)
@given(
    x=hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=4, max_side=9), elements=st.floats(0, 1, width=32)),
    eps=st.floats(0, 1),
    lo=st.floats(0, 0.5),
    width=st.floats(0, 0.5),
    seed=st.integers(0, 2**32 - 1),
)
def test_properties(x, eps, lo, width, seed):
    """Any shape: the step moves each coordinate by at most eps, lands inside clip, agrees on every host backend."""
    g = np.random.default_rng(seed).standard_normal(x.shape).astype(np.float32)
    hi = lo + width
    outs = [mk.fgsm(x, g, eps, clip=(lo, hi), backend=b) for b in ("cpp", "numba")]
    np.testing.assert_array_equal(outs[0], outs[1])
    y = outs[0]
    assert y.shape == x.shape and y.dtype == x.dtype
    assert np.all((y >= np.float32(lo)) & (y <= np.float32(hi)))
    inside = (x >= np.float32(lo)) & (x <= np.float32(hi))
    assert np.all(np.abs(y - x)[inside] <= np.float32(eps) * (1 + 1e-6) + 1e-7)


def test_out_that_would_be_copied_is_refused(host_backend):
    # a list converts to a new array: the result would be written there and lost
    x = np.zeros((2, 5), np.float32)
    with pytest.raises(TypeError, match="out must be an array the result is written into.*got list"):
        mk.fgsm(x, x, 0.1, out=[[0.0] * 5] * 2, backend=host_backend)
    buf = bytearray(40)  # a writable buffer is written through
    mk.fgsm(x + 0.5, np.ones_like(x), 0.1, out=np.frombuffer(buf, np.float32).reshape(2, 5), backend=host_backend)
    np.testing.assert_array_equal(np.frombuffer(buf, np.float32), np.float32(0.6))
