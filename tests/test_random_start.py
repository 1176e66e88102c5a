import numpy as np
import pytest
from scipy import stats

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import cpu_module, dev, host, norms, peer

NORMS = ["inf", 1, 2]
SHAPES = [(1, 1), (3, 7), (5, 3, 11, 13), (2, 70001), (70, 1030)]  # odd sizes, threading threshold, chunk edges


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", NORMS)
def test_matches_reference(backend, rng, dtype, shape, norm):
    x = rng.random(shape).astype(dtype)
    eps = rng.random(shape[0]) * 0.1  # per-sample
    got = host(mk.random_start(dev(x, backend), eps, norm=norm, seed=42, backend=backend))
    assert got.dtype == dtype
    want = ref.random_start(x, eps, norm=str(norm), seed=42)
    # the draws are float32 in every dtype: float32 rounding of u (|u| <= eps)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6 if dtype == np.float32 else 3e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", NORMS)
def test_backends_bit_identical(backend, rng, dtype, shape, norm):
    x = rng.random(shape).astype(dtype)
    eps = rng.random(shape[0]) * 0.5
    want = mk.random_start(x, eps, norm=norm, seed=7, clip=None, backend=peer(backend))
    got = host(mk.random_start(dev(x, backend), eps, norm=norm, seed=7, clip=None, backend=backend))
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inside_ball_and_clip(host_backend, rng, norm, dtype):
    x = rng.random((200, 3, 8, 8)).astype(dtype)
    eps = rng.random(200) * 0.3
    free = mk.random_start(x, eps, norm=norm, seed=3, clip=None, backend=host_backend)
    assert np.all(norms(free - x, norm) <= eps * (1 + 1e-5) + 1e-7)
    clipped = mk.random_start(x, eps, norm=norm, seed=3, backend=host_backend)
    assert clipped.min() >= 0 and clipped.max() <= 1
    np.testing.assert_array_equal(clipped, np.clip(free, 0, 1))
    assert np.all(norms(clipped - x, norm) <= eps * (1 + 1e-5) + 1e-7)


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("d", [1, 2, 3, 7])
def test_uniform_in_volume(norm, d):
    # volume within radius r of a d-ball grows as r^d: (||u|| / eps)^d is U(0, 1)
    n, eps = 20000, 0.25
    x = np.zeros((n, d))
    u = mk.random_start(x, eps, norm=norm, seed=100 + d, clip=None)
    assert stats.kstest((norms(u, norm) / eps) ** d, "uniform").pvalue > 1e-3
    assert np.all(np.abs(u.mean(0)) < 5 * eps / np.sqrt(n))  # symmetric


def test_l2_direction_uniform():
    u = mk.random_start(np.zeros((20000, 3)), 1.0, norm=2, seed=5, clip=None)
    v = u / np.linalg.norm(u, axis=1, keepdims=True)
    # on the sphere S^2 each coordinate of a uniform direction is U(-1, 1) (Archimedes)
    assert stats.kstest(v[:, 0], "uniform", args=(-1, 2)).pvalue > 1e-3


def test_l1_marginal():
    # a coordinate of the uniform L1 ball in d dims: |u_j|/eps ~ Beta(1, d)
    d = 5
    u = mk.random_start(np.zeros((20000, d)), 1.0, norm=1, seed=6, clip=None)
    assert stats.kstest(np.abs(u[:, 0]), "beta", args=(1, d)).pvalue > 1e-3
    assert abs(np.mean(u[:, 1] > 0) - 0.5) < 0.02


def test_per_sample_and_zero_eps(host_backend, rng):
    x = rng.random((3, 40)).astype(np.float32)
    got = mk.random_start(x, [0.0, 0.1, 0.0], norm=2, seed=1, backend=host_backend)
    np.testing.assert_array_equal(got[[0, 2]], x[[0, 2]])
    assert 0 < norms(got[1:2] - x[1:2], 2)[0] <= 0.1 * (1 + 1e-6)


@pytest.mark.parametrize("norm", NORMS)
def test_in_place(backend, rng, norm):
    x = rng.random((4, 33)).astype(np.float32)
    want = mk.random_start(x, 0.05, norm=norm, seed=8)
    xd = dev(x.copy(), backend)
    got = mk.random_start(xd, 0.05, norm=norm, seed=8, out=xd, backend=backend)
    assert got is xd
    np.testing.assert_array_equal(host(xd), want)


def test_non_contiguous(host_backend, rng):
    x = rng.random((6, 10, 8))[:, ::2, 1::2]
    out = np.full((6, 10, 8), -7.0)[:, 1::2, ::2]
    got = mk.random_start(x, 0.1, norm=2, seed=4, out=out, backend=host_backend)
    assert got is out
    np.testing.assert_array_equal(out, mk.random_start(np.ascontiguousarray(x), 0.1, norm=2, seed=4))


def test_seeds_and_generator():
    x = np.full((2, 50), 0.5, np.float32)
    g = mk.Generator(99)
    a, b = mk.random_start(x, 0.1, seed=g), g.random_start(x, 0.1)
    np.testing.assert_allclose(a, ref.random_start(x, 0.1, seed=99, substream=0), atol=1e-7)
    np.testing.assert_allclose(b, ref.random_start(x, 0.1, seed=99, substream=1), atol=1e-7)
    assert g.next_substream() == 2
    np.testing.assert_array_equal(mk.random_start(x, 0.1, seed=99), a)  # an int seed is substream 0
    assert not np.array_equal(mk.random_start(x, 0.1), mk.random_start(x, 0.1))  # seed=None


def test_norm_spellings():
    x = np.full((2, 9), 0.5)
    a = mk.random_start(x, 0.1, norm=2, seed=1)
    for spelling in ("2", "l2", "L2"):
        np.testing.assert_array_equal(mk.random_start(x, 0.1, norm=spelling, seed=1), a)
    b = mk.random_start(x, 0.1, norm="inf", seed=1)
    np.testing.assert_array_equal(mk.random_start(x, 0.1, norm=np.inf, seed=1), b)


def test_empty_batches(host_backend):
    for shape in [(0, 5), (3, 0)]:
        for norm in NORMS:
            got = mk.random_start(np.zeros(shape, np.float32), 0.1, norm=norm, seed=1, backend=host_backend)
            assert got.shape == shape


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(norm=3), ValueError, "norm must be 'inf', 1 or 2"),
        (dict(norm="fro"), ValueError, "norm must be"),
        (dict(eps=-0.1), ValueError, "eps must be finite and >= 0"),
        (dict(eps=float("inf")), ValueError, "eps must be finite"),
        (dict(eps=[0.1, 0.2, 0.3]), ValueError, "eps must be a scalar or have one value per sample"),
        (dict(seed=-1), ValueError, "seed must be in"),
        (dict(seed=2**64), ValueError, "seed must be in"),
        (dict(seed=1.5), TypeError, "seed must be an int"),
        (dict(clip=(1.0, 0.0)), ValueError, "clip must be"),
        (dict(out=np.zeros((2, 5), np.float32)), ValueError, "out must have.*shape"),
        (dict(out=np.zeros((2, 4), np.float64)), TypeError, "out must have.*dtype"),
        (dict(x0=np.zeros((2, 4), np.int32)), TypeError, "x0 must be float32 or float64"),
        (dict(backend="cuda"), ValueError, "needs device arrays"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(x0=np.zeros((2, 4), np.float32), eps=0.1, seed=1, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.random_start(args.pop("x0"), args.pop("eps"), **args)


def test_binding_checks_norm():
    cpu = cpu_module()
    x = np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError, match="norm must be"):
        cpu.random_start(x, 0.1, 3, 1, 0, 0, 0.0, 1.0, x)
