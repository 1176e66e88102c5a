import numpy as np
import pytest
from scipy import stats

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .helpers import cpu_module, dev, host, peer

SHAPES = [(1, 1), (3, 7), (5, 3, 11, 13), (2, 70001)]  # odd sizes, threading threshold
INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
OPS = {
    "gaussian": (mk.gaussian_noise, ref.transforms.gaussian_noise),
    "uniform": (mk.uniform_noise, ref.transforms.uniform_noise),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op", OPS)
def test_matches_reference(backend, rng, dtype, shape, op):
    f, r = OPS[op]
    x = rng.random(shape).astype(dtype)
    s = rng.random(shape[0]) * 0.3  # per-sample
    got = host(f(dev(x, backend), s, seed=42, clip=(0.0, 1.0), backend=backend))
    assert got.dtype == dtype
    # float32 draws in every dtype: a few float32 ulp of |draw| <= ~6
    np.testing.assert_allclose(
        got, r(x, s, seed=42, clip=(0.0, 1.0)), rtol=0, atol=2e-6 if dtype == np.float32 else 3e-7
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op", OPS)
def test_backends_bit_identical(backend, rng, dtype, shape, op):
    f = OPS[op][0]
    x = rng.random(shape).astype(dtype)
    want = f(x, 0.7, seed=9, backend=peer(backend))
    got = host(f(dev(x, backend), 0.7, seed=9, backend=backend))
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_is_the_stream(host_backend, rng):
    x = rng.random((4, 3, 5)).astype(np.float32)
    z = mk.rng.normal(x.shape, seed=5)
    np.testing.assert_array_equal(mk.gaussian_noise(x, 0.5, seed=5, backend=host_backend), x + np.float32(0.5) * z)
    u = mk.rng.uniform(x.shape, seed=5)
    np.testing.assert_array_equal(
        mk.uniform_noise(x, 0.5, seed=5, backend=host_backend), x + np.float32(0.5) * (2 * u - 1)
    )
    np.testing.assert_array_equal(
        mk.uniform_noise(x, 0.5, seed=5, backend=host_backend),
        mk.random_start(x, 0.5, norm="inf", seed=5, clip=None, backend=host_backend),
    )


def ints(rng, dtype, shape):
    """Integers over the dtype's whole range, its extremes included."""
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    x.flat[:2] = [info.min, info.max]
    return x


@pytest.mark.parametrize(
    "dtype, shape",
    # every dtype on the calling thread; two threaded (each dtype compiles a parallel Numba loop: ~20 s)
    [(t, (3, 7)) for t in INTS] + [(np.uint8, (2, 70001)), (np.int64, (2, 70001))],
)
def test_integers_are_the_stream(backend, rng, dtype, shape):
    # float64 out, as NumPy's x + noise: float64(x) + float64(draw) * scale, the float32
    # draws of the stream widened exactly (mk.rng computes them, not the op)
    x = ints(rng, dtype, shape)
    s = rng.random(shape[0]) * 3.0
    z = mk.rng.normal(shape, seed=8).astype(np.float64)
    u = (2 * mk.rng.uniform(shape, seed=8) - 1).astype(np.float64)
    for f, draw in ((mk.gaussian_noise, z), (mk.uniform_noise, u)):
        got = host(f(dev(x, backend), s, seed=8, backend=backend))
        assert got.dtype == np.float64
        want = x.astype(np.float64) + s[:, None] * draw
        np.testing.assert_array_equal(got, want)
        clipped = host(f(dev(x, backend), s, seed=8, clip=(-100.5, 100.5), backend=backend))
        np.testing.assert_array_equal(clipped, np.clip(want, -100.5, 100.5))


@pytest.mark.parametrize("dtype", [np.int16, np.uint8, np.int64])
@pytest.mark.parametrize("op", OPS)
def test_integers_match_reference_and_peer(backend, rng, dtype, op):
    f, r = OPS[op]
    x = rng.integers(0, 100, (5, 3, 11, 13)).astype(dtype)
    got = host(f(dev(x, backend), 2.5, seed=4, clip=(0, 99), backend=backend))
    np.testing.assert_allclose(got, r(x, 2.5, seed=4, clip=(0, 99)), rtol=0, atol=3e-6)  # float32 draws
    np.testing.assert_array_equal(got, f(x, 2.5, seed=4, clip=(0, 99), backend=peer(backend)))


def test_integer_out_and_in_place(host_backend, rng):
    x = ints(rng, np.int64, (3, 50))
    want = mk.gaussian_noise(x, 0.1, seed=2)
    out = np.full(x.shape, np.nan)
    assert mk.gaussian_noise(x, 0.1, seed=2, out=out, backend=host_backend) is out
    np.testing.assert_array_equal(out, want)
    with pytest.raises(TypeError, match="out must have dtype float64"):
        mk.gaussian_noise(x, 0.1, seed=2, out=x, backend=host_backend)
    with pytest.raises(ValueError, match="out overlaps x in part"):  # the same bytes as another dtype
        mk.gaussian_noise(x, 0.1, seed=2, out=x.view(np.float64), backend=host_backend)


def test_broadcast_and_offset_kernel(host_backend, rng):
    # smoothing's use: one row broadcast over a batch, filled in pieces at stream offsets
    from mlsec_kernels import _backend

    k = _backend.kernel(host_backend, "noise")
    x = rng.random((1, 37)).astype(np.float32)
    whole = np.empty((9, 37), np.float32)
    k(x, 0.3, "normal", 3, 1, 0, -np.inf, np.inf, whole)
    np.testing.assert_array_equal(
        whole, np.repeat(x, 9, 0) + np.float32(0.3) * mk.rng.normal((9, 37), seed=3, substream=1)
    )
    parts = np.empty((9, 37), np.float32)
    for a, b in [(0, 4), (4, 5), (5, 9)]:
        k(x, 0.3, "normal", 3, 1, a * 37, -np.inf, np.inf, parts[a:b])
    np.testing.assert_array_equal(parts, whole)
    xi = rng.integers(-50, 50, (1, 37)).astype(np.int16)  # an integer row: float64 copies
    k(xi, 0.3, "normal", 3, 1, 0, -np.inf, np.inf, whole.astype(np.float64))
    batch = np.empty((9, 37))
    k(xi, 0.3, "normal", 3, 1, 0, -np.inf, np.inf, batch)
    z = mk.rng.normal((9, 37), seed=3, substream=1).astype(np.float64)
    np.testing.assert_array_equal(batch, np.repeat(xi, 9, 0).astype(np.float64) + 0.3 * z)


@pytest.mark.parametrize("op", OPS)
def test_distribution(op):
    f = OPS[op][0]
    v = f(np.zeros((10, 100000)), 2.0, seed=11).reshape(-1) / 2.0
    dist, args = ("norm", ()) if op == "gaussian" else ("uniform", (-1, 2))
    assert stats.kstest(v, dist, args=args).pvalue > 1e-3
    v1 = f(np.zeros((1, 100000)), 1.0, seed=12)
    assert abs(np.corrcoef(v1[0, :-1], v1[0, 1:])[0, 1]) < 0.02  # neighbours independent


def test_clip_zero_sigma_in_place_generator(host_backend, rng):
    x = rng.random((3, 50)).astype(np.float32)
    got = mk.gaussian_noise(x, [0.0, 5.0, 0.0], seed=1, clip=(0, 1), backend=host_backend)
    np.testing.assert_array_equal(got[[0, 2]], x[[0, 2]])
    assert got.min() >= 0 and got.max() <= 1 and np.any(got[1] == 1) and np.any(got[1] == 0)
    want = mk.gaussian_noise(x, 0.1, seed=2)
    y = x.copy()
    assert mk.gaussian_noise(y, 0.1, seed=2, out=y, backend=host_backend) is y
    np.testing.assert_array_equal(y, want)
    g = mk.Generator(2)
    np.testing.assert_array_equal(mk.gaussian_noise(x, 0.1, seed=g), want)
    assert not np.array_equal(mk.gaussian_noise(x, 0.1, seed=g), want)  # next substream
    assert not np.array_equal(mk.gaussian_noise(x, 0.1), mk.gaussian_noise(x, 0.1))  # seed=None


def test_non_contiguous_and_torch(host_backend, rng):
    x = rng.random((6, 10, 8))[:, ::2, 1::2]
    out = np.full((6, 10, 8), -7.0)[:, 1::2, ::2]
    assert mk.gaussian_noise(x, 0.1, seed=4, out=out, backend=host_backend) is out
    np.testing.assert_array_equal(out, mk.gaussian_noise(np.ascontiguousarray(x), 0.1, seed=4))
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
    t = torch.from_numpy(np.ascontiguousarray(x))
    got = mk.gaussian_noise(t, 0.1, seed=4, backend=host_backend)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_array_equal(got.numpy(), out)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(s=-0.1), ValueError, "must be finite and >= 0"),
        (dict(s=float("nan")), ValueError, "must be finite and >= 0"),
        (dict(s=[0.1, float("nan")]), ValueError, "must be finite and >= 0"),
        (dict(s=[0.1, 0.2, 0.3]), ValueError, "one value per sample"),
        (dict(seed=-1), ValueError, "seed must be in"),
        (dict(clip=(1.0, 0.0)), ValueError, "clip must be"),
        (dict(out=np.zeros((2, 5), np.float32)), ValueError, "out must have.*shape"),
        (dict(x=np.zeros((2, 4), bool)), TypeError, "x must be float32, float64 or an integer dtype, got bool"),
        (dict(x=np.zeros((2, 4), np.float16)), TypeError, "x must be .* integer dtype, got float16"),
        (dict(x=np.zeros((2, 4), np.complex128)), TypeError, "x must be .* integer dtype, got complex128"),
        (dict(x=np.zeros((2, 4), object)), TypeError, "x must be .* integer dtype, got object"),
        (dict(x=np.zeros((2, 4), np.int8), out=np.zeros((2, 4), np.int8)), TypeError, "out must have dtype float64"),
        (dict(backend="cuda"), ValueError, "needs device arrays"),
    ],
)
def test_bad_input(host_backend, op, kwargs, err, match):
    args = dict(x=np.zeros((2, 4), np.float32), s=0.1, seed=1, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        OPS[op][0](args.pop("x"), args.pop("s"), **args)


def test_binding_checks():
    cpu = cpu_module()
    x = np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError, match="noise kind"):
        cpu.noise(x, 0.1, "poisson", 1, 0, 0, 0.0, 1.0, x)
    with pytest.raises(ValueError, match="sigma must be finite"):
        cpu.noise(x, float("nan"), "normal", 1, 0, 0, 0.0, 1.0, x)
    with pytest.raises(ValueError, match="out must have shape"):
        cpu.noise(np.zeros((2, 3), np.float32), 0.1, "normal", 1, 0, 0, 0.0, 1.0, np.zeros((3, 4), np.float32))
