"""sample_start: a batch run in pieces, each piece told the index of its first sample in the
whole batch, gives the whole call's bits (docs/rng.md, "Splitting a batch: sample_start"):
``op(x[a:b], ..., seed=k, sample_start=a) == op(x, ..., seed=k)[a:b]``."""

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import output
from mlsec_kernels import reference as ref

from .helpers import cpu_module, dev, host, peer, skip_unless

N = 13
CUTS = [(0, 4), (4, 5), (5, N)]  # three uneven pieces
SEED = 11
BIG = 2**40


def _rs(norm):
    return lambda x, e, **kw: mk.random_start(x, e, norm=norm, seed=SEED, clip=None, **kw)


def _pd(layout):
    return lambda x, e, **kw: mk.pixel_deflection(x, 7, 2, seed=SEED, layout=layout, **kw)


def _rrp(layout, per_sample, interpolation="nearest"):
    return lambda x, e, **kw: mk.random_resize_pad(
        x, 9, min_size=2, seed=SEED, layout=layout, per_sample=per_sample, interpolation=interpolation, **kw
    )


# name: (op(x, per-sample scale, **kw), dtypes, sample shape, takes out=x)
OPS = {
    "random_start_inf": (_rs("inf"), (np.float32, np.float64), (3, 5, 7), True),
    "random_start_2": (_rs(2), (np.float32, np.float64), (3, 5, 7), True),
    "random_start_1": (_rs(1), (np.float32, np.float64), (3, 5, 7), True),
    "gaussian_noise": (
        lambda x, e, **kw: mk.gaussian_noise(x, e, seed=SEED, clip=(0.0, 1.0), **kw),
        (np.float32, np.float64, np.uint8),
        (3, 5, 7),
        True,
    ),
    "uniform_noise": (
        lambda x, e, **kw: mk.uniform_noise(x, e, seed=SEED, **kw),
        (np.float32, np.float64, np.int16),
        (3, 5, 7),
        True,
    ),
    "pixel_deflection_nchw": (_pd("NCHW"), (np.float32, np.float64, np.uint8), (3, 5, 7), True),
    "pixel_deflection_nhwc": (_pd("NHWC"), (np.float32, np.float64, np.uint8), (5, 7, 3), True),
    "random_resize_pad_nchw": (_rrp("NCHW", True), (np.float32, np.float64, np.uint8), (3, 5, 7), False),
    "random_resize_pad_nhwc": (_rrp("NHWC", True, "bilinear"), (np.float32, np.float64, np.uint8), (5, 7, 3), False),
    "random_resize_pad_batch": (_rrp("NCHW", False), (np.float32, np.float64), (3, 5, 7), False),
    "output_gaussian_noise": (
        lambda p, e, **kw: output.gaussian_noise(p, scale=0.05, seed=SEED, **kw),
        (np.float32, np.float64),
        (11,),
        True,
    ),
    "output_gaussian_noise_wide": (
        lambda p, e, **kw: output.gaussian_noise(p, scale=0.05, seed=SEED, renormalize=True, **kw),
        (np.float32, np.float64),
        (1500,),  # longer than a chunk of cpp/output.hpp's renormalised noise
        True,
    ),
    "output_gaussian_noise_binary": (
        lambda p, e, **kw: output.gaussian_noise(p, scale=0.05, seed=SEED, **kw),
        (np.float32, np.float64),
        (1,),
        True,
    ),
}
CASES = [(name, dt) for name, (_, dts, _, _) in OPS.items() for dt in dts]


def _data(rng, name, dtype, n=N):
    shape = (n,) + OPS[name][2]
    if np.dtype(dtype).kind in "iu":
        x = rng.integers(0, 100, shape).astype(dtype)
    else:
        x = rng.random(shape).astype(dtype)
        if name.startswith("output"):
            x /= x.sum(axis=1, keepdims=True)  # probability rows: "auto" renormalises them
    return x, rng.random(n) * 0.3  # per-sample eps / sigma


def _bits(a):
    a = host(a)
    return a.view(np.uint8) if a.dtype.kind == "f" else a


@pytest.mark.parametrize("name,dtype", CASES)
def test_pieces_give_the_whole(backend, rng, name, dtype):
    op = OPS[name][0]
    x, e = _data(rng, name, dtype)
    whole = host(op(dev(x, backend), e, backend=backend))
    parts = [host(op(dev(x[a:b], backend), e[a:b], sample_start=a, backend=backend)) for a, b in CUTS]
    np.testing.assert_array_equal(_bits(np.concatenate(parts)), _bits(whole))


# in place where out may be x: not random_resize_pad (a new canvas), nor integer noise (float64 out)
IN_PLACE = [(n, dt) for n, dt in CASES if OPS[n][3] and not (n.endswith("noise") and np.dtype(dt).kind in "iu")]


@pytest.mark.parametrize("name,dtype", IN_PLACE)
def test_pieces_in_place(backend, rng, name, dtype):
    op = OPS[name][0]
    x, e = _data(rng, name, dtype)
    whole = host(op(dev(x, backend), e, backend=backend))
    y = dev(x.copy(), backend)
    for a, b in CUTS:
        r = op(y[a:b], e[a:b], sample_start=a, out=y[a:b], backend=backend)
        assert host(r).shape == (b - a,) + x.shape[1:]
    np.testing.assert_array_equal(_bits(y), _bits(whole))


@pytest.mark.parametrize("start", [3, BIG])
@pytest.mark.parametrize("name,dtype", CASES)
def test_backends_agree_with_a_start(backend, rng, name, dtype, start):
    op = OPS[name][0]
    x, e = _data(rng, name, dtype, n=5)
    want = op(x, e, sample_start=start, backend=peer(backend))
    got = op(dev(x, backend), e, sample_start=start, backend=backend)
    np.testing.assert_array_equal(_bits(got), _bits(want))


def test_numpy_integer_start_is_an_int(host_backend, rng):
    # np.int64 takes the general path (the binding hands it back to Python): same draws
    x, e = _data(rng, "random_start_2", np.float32)
    a = mk.random_start(x, e, norm=2, seed=SEED, sample_start=np.int64(BIG), backend=host_backend)
    b = mk.random_start(x, e, norm=2, seed=SEED, sample_start=BIG, backend=host_backend)
    np.testing.assert_array_equal(a, b)


# Against the float64 references, which take sample_start from the word mappings of
# docs/rng.md: the piece's draws are the global samples', not a relabelling of sample 0's.
@pytest.mark.parametrize("norm", ["inf", 1, 2])
@pytest.mark.parametrize("start", [0, 6, BIG])
def test_random_start_reference(backend, rng, norm, start):
    x = rng.random((4, 3, 5, 7))
    e = rng.random(4) * 0.1
    got = host(mk.random_start(dev(x, backend), e, norm=norm, seed=SEED, sample_start=start, backend=backend))
    want = ref.random_start(x, e, norm=str(norm), seed=SEED, sample_start=start)
    np.testing.assert_allclose(got, want, rtol=0, atol=3e-8)


@pytest.mark.parametrize("kind", ["gaussian", "uniform"])
@pytest.mark.parametrize("start", [0, 6, BIG])
def test_noise_reference(backend, rng, kind, start):
    x = rng.random((4, 3, 5, 7))
    s = rng.random(4) * 0.2
    op, rop = (
        (mk.gaussian_noise, ref.transforms.gaussian_noise)
        if kind == "gaussian"
        else (mk.uniform_noise, ref.transforms.uniform_noise)
    )
    got = host(op(dev(x, backend), s, seed=SEED, sample_start=start, backend=backend))
    np.testing.assert_allclose(got, rop(x, s, seed=SEED, sample_start=start), rtol=0, atol=3e-7 * 0.2 * 6)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("start", [0, 6, BIG])
def test_image_ops_reference(backend, rng, layout, start):
    x = rng.integers(0, 255, (3, 3, 6, 5) if layout == "NCHW" else (3, 6, 5, 3)).astype(np.uint8)
    got = host(
        mk.pixel_deflection(dev(x, backend), 9, 2, seed=SEED, layout=layout, sample_start=start, backend=backend)
    )
    want = ref.transforms.pixel_deflection(x, 9, 2, seed=SEED, layout=layout, sample_start=start)
    np.testing.assert_array_equal(got, want)
    got = host(
        mk.random_resize_pad(
            dev(x, backend), 10, min_size=2, seed=SEED, layout=layout, sample_start=start, backend=backend
        )
    )
    want = ref.transforms.random_resize_pad(x, 10, min_size=2, seed=SEED, layout=layout, sample_start=start)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("start", [0, 6, BIG])
def test_output_noise_is_the_stream_at_the_rows(backend, rng, start):
    # entry (r, j) adds scale * normal (start + r)*C + j (no renormalisation: plain addition)
    p = rng.random((4, 11))
    got = host(
        output.gaussian_noise(
            dev(p, backend), scale=0.05, seed=SEED, renormalize=False, sample_start=start, backend=backend
        )
    )
    z = ref.rng.normal(p.shape, seed=SEED, offset=start * 11)
    np.testing.assert_allclose(got, ref.output.gaussian_noise(p, 0.05 * z, renormalize=False), rtol=0, atol=5e-8)


def test_resize_pad_params_one_draw_for_the_batch(rng):
    # per_sample=False: every image uses block 0, whatever sample_start
    a = mk.transforms.resize_pad_params(5, 2, 9, SEED, 0, False, sample_start=7)
    np.testing.assert_array_equal(a, mk.transforms.resize_pad_params(5, 2, 9, SEED, 0, False))
    b = mk.transforms.resize_pad_params(5, 2, 9, SEED, 0, True, sample_start=7)
    np.testing.assert_array_equal(b, ref.transforms.resize_pad_params(5, 2, 9, seed=SEED, sample_start=7))


# Bad sample_start: the same exception and message on every host backend (Python's checks
# for numba, the binding's for the fast path).
N_BAD = 4


def _limit(name, x):
    """The op's largest sample_start + N: its counter space over the stream units a sample uses."""
    d = int(np.prod(x.shape[1:]))
    if name.startswith("random_start") or name.startswith("output"):
        return 2**63 // d
    if name.endswith("noise"):
        return 2**66 // d
    if name.startswith("pixel"):
        return 2**63 // (3 * 7)  # C = 3 channels, 7 deflections
    return 2**64  # random_resize_pad: one block a sample


BAD = [
    (True, TypeError, "sample_start must be an int, got bool"),
    (1.0, TypeError, "sample_start must be an int, got float"),
    ("1", TypeError, "sample_start must be an int, got str"),
    (-1, ValueError, "sample_start must be >= 0, got -1"),
    (-(2**70), ValueError, f"sample_start must be >= 0, got {-(2**70)}"),
]


@pytest.mark.parametrize("name", [n for n in OPS if not n.endswith(("_wide", "_binary", "_batch", "nhwc"))])
@pytest.mark.parametrize("bad", range(len(BAD) + 2))
def test_bad_sample_start(rng, name, bad):
    op = OPS[name][0]
    x, e = _data(rng, name, np.float32, n=N_BAD)
    limit = _limit(name, x)
    if bad < len(BAD):
        value, exc, msg = BAD[bad]
    else:  # one past the limit, and far past it
        value = limit - N_BAD + 1 if bad == len(BAD) else 2**80
        exc, msg = ValueError, f"sample_start + N must be <= {limit} for this op and sample size, got {value} + {N_BAD}"
    messages = []
    for b in ("auto", "cpp", "numba"):
        skip_unless(b if b != "auto" else "cpp")
        with pytest.raises(exc) as info:
            op(x, e, sample_start=value, backend=b)
        messages.append(str(info.value))
    assert messages == [msg] * 3
    # the largest start that fits is taken
    if bad == len(BAD):
        assert host(op(x, e, sample_start=limit - N_BAD, backend="numba")).shape[0] == N_BAD


# (binding call, Python call, the op's limit on sample_start + N) for x of shape (2, 3, 5, 7)
def _random_start_calls(cpu, x, value):
    return (
        lambda: cpu.random_start(x, 0.1, 0, 1, 0, value, 0.0, 1.0, x.copy()),
        lambda: mk.random_start(x, 0.1, seed=1, sample_start=value, backend="numba"),
        2**63 // (3 * 5 * 7),
    )


def _pixel_deflection_calls(cpu, x, value):
    return (
        lambda: cpu.pixel_deflection(x, 5, 1, "NCHW", 1, 0, value, x.copy()),
        lambda: mk.pixel_deflection(x, 5, 1, seed=1, sample_start=value, backend="numba"),
        2**63 // (3 * 5),
    )


@pytest.mark.parametrize("calls", [_random_start_calls, _pixel_deflection_calls])
@pytest.mark.parametrize("value", [True, 2.0, -3, "past", 2**63, 2**64, 2**100])
def test_bindings_check_like_python(calls, value):
    # The bindings (what the fast path and the device path call) and Python's check give
    # the same exception and message; types other than int go back to Python (Fallback).
    cpu = cpu_module()
    x = np.zeros((2, 3, 5, 7), np.float32)
    if value == "past":
        value = calls(cpu, x, 0)[2] - 1  # + N = 2: one past the limit
    binding, python, _ = calls(cpu, x, value)
    with pytest.raises((TypeError, ValueError)) as py_err:
        python()
    with pytest.raises(Exception) as c_err:
        binding()
    if type(value) is int:
        assert (type(c_err.value), str(c_err.value)) == (type(py_err.value), str(py_err.value))
    else:
        assert isinstance(c_err.value, cpu.Fallback)


def test_largest_start_fits_the_counters():
    # (sample_start + N) * d == 2**63 is accepted, and the last sample draws its own words
    x = np.full((1, 4), 0.5)
    s = 2**63 // 4 - 1
    a = mk.random_start(x, 0.25, norm=2, seed=SEED, sample_start=s, clip=None, backend="numba")
    b = mk.random_start(x, 0.25, norm=2, seed=SEED, sample_start=s, clip=None, backend="cpp")
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a, ref.random_start(x, 0.25, norm="2", seed=SEED, sample_start=s, clip=None), atol=3e-8)


def test_torch_ops_take_sample_start(rng):
    torch = pytest.importorskip("torch", reason="the torch wrappers need torch")
    from mlsec_kernels.torch import _ops

    x = rng.random((6, 3, 5, 7))
    k, ops = _ops.key(SEED), torch.ops.mlsec
    t = torch.from_numpy(x)
    cases = [
        (ops.random_start(t, 0.1, "2", k, 0.0, 1.0, BIG), mk.random_start(x, 0.1, norm=2, seed=SEED, sample_start=BIG)),
        (ops.gaussian_noise(t, 0.1, k, 0.0, 1.0, 5), mk.gaussian_noise(x, 0.1, seed=SEED, clip=(0, 1), sample_start=5)),
        (ops.uniform_noise(t, 0.1, k, -np.inf, np.inf, 5), mk.uniform_noise(x, 0.1, seed=SEED, sample_start=5)),
        (ops.pixel_deflection(t, 4, 1, k, "NCHW", 5), mk.pixel_deflection(x, 4, 1, seed=SEED, sample_start=5)),
        (
            ops.random_resize_pad(t, 9, 0, k, "nearest", True, "NCHW", 5),
            mk.random_resize_pad(x, 9, seed=SEED, sample_start=5),
        ),
        (
            ops.output_gaussian_noise(t[:, 0, 0], 0.1, k, "false", 5),
            output.gaussian_noise(x[:, 0, 0].copy(), scale=0.1, seed=SEED, renormalize=False, sample_start=5),
        ),
    ]
    for got, want in cases:
        np.testing.assert_array_equal(got.numpy(), want)


def test_torch_resize_gradient_with_sample_start(rng):
    # the backward redraws the forward's placements: the adjoint identity <A x, g> = <x, A^T g>
    torch = pytest.importorskip("torch", reason="the torch wrappers need torch")
    from mlsec_kernels.torch import _ops

    x = torch.from_numpy(rng.random((4, 2, 5, 6))).requires_grad_()
    g = torch.from_numpy(rng.random((4, 2, 11, 11)))
    y = torch.ops.mlsec.random_resize_pad(x, 11, 2, _ops.key(SEED), "bilinear", True, "NCHW", 9)
    (dx,) = torch.autograd.grad(y, x, g)
    np.testing.assert_allclose(float((y * g).sum().detach()), float((x * dx).sum().detach()), rtol=1e-12)
