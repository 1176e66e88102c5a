"""Unaligned buffers (an array NumPy makes at an odd byte offset of a buffer: its
flags.aligned is False). The kernels load and store whole elements through typed pointers,
so an unaligned input is copied to an aligned one, on the fast path (the binding hands it
back to Python) and the general path alike, and gives the aligned copy's bits; per-sample
parameters of any byte order, dtype or alignment are converted; an unaligned or read-only
``out`` is refused with one message on every host backend."""

import hashlib
import hmac

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import _backend, smoothing
from mlsec_kernels import output as O
from mlsec_kernels import rng as R
from mlsec_kernels.output import Watermark

from .helpers import cpu_module

UNALIGNED = "out must be aligned for its dtype"


def unaligned(a, dtype=None):
    """A copy of a (in dtype) one byte into a writeable buffer: not aligned for its dtype."""
    a = np.asarray(a, dtype)
    u = np.frombuffer(bytearray(a.nbytes + 1), a.dtype, a.size, offset=1).reshape(a.shape)
    u[...] = a
    assert not u.flags.aligned and u.flags.c_contiguous and u.flags.writeable
    return u


def data(dtype):
    g = np.random.default_rng(7)
    x = g.random((3, 2, 6, 5)).astype(dtype)
    return {
        "x": x,
        "x0": np.clip(x + g.uniform(-0.05, 0.05, x.shape), 0, 1).astype(dtype),
        "g": g.standard_normal(x.shape).astype(dtype),
        "p": g.dirichlet(np.full(9, 0.5), 4).astype(dtype),
        "eps": np.array([0.1, 0.0, 0.25]),
        "step": np.array([0.05, 0.02, 0.01]),
    }


@pytest.fixture
def kernel_calls(monkeypatch):
    """The ops whose kernels the general path called; each call asserts that every array it
    hands the kernel is C-contiguous and aligned. (The fast path calls the binding itself:
    test_the_binding_never_takes_an_unaligned_array.)"""
    real, calls = _backend.kernel, []

    def kernel(backend, op, module=None):
        k = real(backend, op, module)

        def checked(*args):
            for a in args:
                if isinstance(a, np.ndarray):
                    assert a.flags.c_contiguous and a.flags.aligned, f"{op} got an unaligned array"
            calls.append(op)
            return k(*args)

        return checked

    monkeypatch.setattr(_backend, "kernel", kernel)
    return calls


# name -> (call(d, backend, out=None) with d the op's arrays, the dtypes it takes)
OPS = {
    "fgsm": (lambda d, b, out=None: mk.fgsm(d["x"], d["g"], d["eps"], out=out, backend=b), "fd"),
    **{
        f"project {n}": (lambda d, b, out=None, n=n: mk.project(d["g"], d["eps"], norm=n, out=out, backend=b), "fd")
        for n in ("inf", 1, 2)
    },
    **{
        f"pgd_step {n}": (
            lambda d, b, out=None, n=n: mk.pgd_step(
                d["x"], d["x0"], d["g"], d["step"], d["eps"], norm=n, out=out, backend=b
            ),
            "fd",
        )
        for n in ("inf", 1, 2)
    },
    **{
        f"random_start {n}": (
            lambda d, b, out=None, n=n: mk.random_start(d["x"], d["eps"], norm=n, seed=3, out=out, backend=b),
            "fd",
        )
        for n in ("inf", 1, 2)
    },
    "bit_depth": (lambda d, b, out=None: mk.bit_depth(d["x"], 3, out=out, backend=b), "fd"),
    "median_filter": (lambda d, b, out=None: mk.median_filter(d["x"], 3, out=out, backend=b), "fd"),
    "non_local_means": (lambda d, b, out=None: mk.non_local_means(d["x"], h=0.2, out=out, backend=b), "f"),
    "gaussian_noise": (lambda d, b, out=None: mk.gaussian_noise(d["x"], d["eps"], seed=3, out=out, backend=b), "fd"),
    "uniform_noise": (lambda d, b, out=None: mk.uniform_noise(d["x"], d["eps"], seed=3, out=out, backend=b), "fd"),
    "random_resize_pad": (
        lambda d, b, out=None: mk.random_resize_pad(d["x"], 8, seed=3, interpolation="bilinear", out=out, backend=b),
        "fd",
    ),
    "pixel_deflection": (lambda d, b, out=None: mk.pixel_deflection(d["x"], 9, 2, seed=3, out=out, backend=b), "fd"),
    "output.reverse_sigmoid": (lambda d, b, out=None: O.reverse_sigmoid(d["p"], out=out, backend=b), "fd"),
    "output.gaussian_noise": (lambda d, b, out=None: O.gaussian_noise(d["p"], seed=3, out=out, backend=b), "fd"),
    "output.round": (lambda d, b, out=None: O.round(d["p"], out=out, backend=b), "fd"),
    "output.high_confidence": (lambda d, b, out=None: O.high_confidence(d["p"], out=out, backend=b), "fd"),
    "output.top_k": (lambda d, b, out=None: O.top_k(d["p"], 3, out=out, backend=b), "fd"),
    "output.class_labels": (lambda d, b, out=None: O.class_labels(d["p"], out=out, backend=b), "fd"),
}
DTYPES = {"f": np.float32, "d": np.float64}
CASES = [(op, DTYPES[c]) for op, (_, codes) in OPS.items() for c in codes]
IDS = [f"{op}-{np.dtype(t).name}" for op, t in CASES]


@pytest.mark.parametrize("op, dtype", CASES, ids=IDS)
def test_unaligned_inputs_give_the_aligned_result(op, dtype, host_backend, kernel_calls):
    call, _ = OPS[op]
    d = data(dtype)
    want = call(d, host_backend)
    kernel_calls.clear()
    got = call({k: unaligned(v) for k, v in d.items()}, host_backend)
    assert kernel_calls  # through the general path, the fast path's too, to its copies
    assert got.dtype == want.dtype and got.flags.aligned
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op, dtype", CASES, ids=IDS)
def test_unaligned_out_is_refused(op, dtype, host_backend):
    call, _ = OPS[op]
    d = data(dtype)
    shape = call(d, host_backend).shape
    with pytest.raises(ValueError, match=UNALIGNED):
        call(d, host_backend, out=unaligned(np.zeros(shape, dtype)))
    ro = np.zeros(shape, dtype)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        call(d, host_backend, out=ro)
    with pytest.raises(TypeError, match="out must be an array the result is written into"):
        call(d, host_backend, out=np.zeros(shape, dtype).tolist())


# Per-sample parameters as they may come: unaligned, big-endian (both), integer.
PARAMS = {
    "unaligned": lambda v: unaligned(v),
    "big-endian": lambda v: np.asarray(v, ">f8"),
    "unaligned big-endian": lambda v: unaligned(v, ">f8"),
    "float32": lambda v: np.asarray(v, np.float32),
    "int64": lambda v: np.asarray(v, np.int64),
    "unaligned int32": lambda v: unaligned(v, np.int32),
}
PARAM_OPS = [op for op in OPS if op.split()[0] in ("fgsm", "project", "pgd_step", "random_start")] + [
    "gaussian_noise",
    "uniform_noise",
]


@pytest.mark.parametrize("form", sorted(PARAMS))
@pytest.mark.parametrize("op", PARAM_OPS)
def test_per_sample_parameters_in_any_form(op, form, host_backend, kernel_calls):
    call, _ = OPS[op]
    d = data(np.float32)
    d["eps"], d["step"] = np.array([1.0, 0.0, 2.0]), np.array([1.0, 2.0, 1.0])  # exact in every dtype
    want = call(d, host_backend)
    got = call({**d, "eps": PARAMS[form](d["eps"]), "step": PARAMS[form](d["step"])}, host_backend)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", ["uniform", "normal", "random_raw"])
def test_rng_refuses_an_unaligned_or_read_only_out(op, host_backend):
    fill = getattr(R, op)
    dtype = np.uint32 if op == "random_raw" else np.float64
    with pytest.raises(ValueError, match=UNALIGNED):
        fill(11, seed=5, out=unaligned(np.zeros(11, dtype)), backend=host_backend)
    ro = np.zeros(11, dtype)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out is read-only"):
        fill(11, seed=5, out=ro, backend=host_backend)


def test_smoothing_votes_on_unaligned_logits(host_backend, kernel_calls):
    x = np.random.default_rng(2).random((2, 6)).astype(np.float32)

    def model(aligned_out):
        def f(z):
            logits = z[:, :3] * np.array([1.0, 2.0, 1.5], np.float32)
            return logits if aligned_out else unaligned(logits)

        return f

    want = smoothing.predict(model(True), x, 0.3, 40, seed=4, backend=host_backend)
    got = smoothing.predict(model(False), x, 0.3, 40, seed=4, backend=host_backend)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, ">f4"])
def test_watermark_digests_hash_unaligned_rows_as_bytes(dtype):
    x = unaligned(np.random.default_rng(1).random((3, 5)), dtype)
    want = [hmac.new(b"k", row.tobytes(), hashlib.sha256).digest() for row in x]
    np.testing.assert_array_equal(Watermark(b"k").digests(x), np.frombuffer(b"".join(want), np.uint8).reshape(3, 32))


def test_the_binding_never_takes_an_unaligned_array():
    """The C++ entry points themselves (the fast path calls them with whatever it is
    given): an unaligned input or per-sample array raises Fallback for Python to copy it,
    an unaligned out the general path's ValueError; no kernel sees the pointer."""
    cpu = cpu_module()
    x = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    out = np.empty_like(x)
    with pytest.raises(cpu.Fallback):
        cpu.fgsm(unaligned(x), x, 0.1, False, 0.0, 1.0, out)
    with pytest.raises(cpu.Fallback):
        cpu.fgsm(x, unaligned(x), 0.1, False, 0.0, 1.0, out)
    with pytest.raises(cpu.Fallback):
        cpu.fgsm(x, x, unaligned([0.1, 0.2, 0.3]), False, 0.0, 1.0, out)
    with pytest.raises(ValueError, match=UNALIGNED):
        cpu.fgsm(x, x, 0.1, False, 0.0, 1.0, unaligned(out))
    with pytest.raises(ValueError, match=UNALIGNED):
        cpu.uniform(unaligned(np.zeros(5, np.float32)), 1, 0, 0)
    with pytest.raises(cpu.Fallback):
        cpu.class_counts(unaligned(x), 4, np.zeros(5, np.int64))
    with pytest.raises(ValueError, match="counts must be aligned for its dtype"):
        cpu.class_counts(x, 4, unaligned(np.zeros(5, np.int64)))
    with pytest.raises(cpu.Fallback):
        cpu.hmac_sha256(b"k", unaligned(x), np.zeros((3, 32), np.uint8))


class _DeviceArray:
    """Just enough of __cuda_array_interface__ for the binding's checks, which run before
    any CUDA call (so this needs the CUDA module, not a GPU)."""

    def __init__(self, addr, shape=(2, 3), typestr="<f4", readonly=False):
        self.__cuda_array_interface__ = {
            "shape": shape,
            "typestr": typestr,
            "data": (addr, readonly),
            "strides": None,
            "version": 3,
        }


@pytest.mark.skipif(_backend._cuda is None, reason="the CUDA module is not built here (MLSEC_CUDA=OFF or no nvcc)")
def test_the_cuda_binding_refuses_an_unaligned_device_pointer():
    # Python copies CuPy inputs to aligned buffers; a pointer at an odd address from any
    # other producer must be refused by the binding, never loaded through a float pointer.
    # (Only the first argument can be tested here: the next one's check asks the CUDA
    # runtime where x lives, which needs a GPU.)
    bad = _DeviceArray(4096 + 1)
    with pytest.raises(ValueError, match="^x must be aligned for its dtype"):
        _backend._cuda.fgsm(bad, bad, 0.1, False, 0.0, 1.0, bad, 0)
