"""Bad input gets the same clear exception on every host backend: the fast C++ path, the
C++ general path and Numba raise one type with one message naming the argument (pybind11's
own "incompatible function arguments" dump never reaches a user)."""

import numpy as np
import pytest

import mlsec_kernels as mk

X = np.random.default_rng(0).random((2, 3, 8, 8)).astype(np.float32)
G = np.ones_like(X)


def _partial_overlap(backend):
    buf = np.zeros(2 * X.size, np.float32)
    return mk.fgsm(buf[: X.size].reshape(X.shape), G, 0.1, out=buf[5 : 5 + X.size].reshape(X.shape), backend=backend)


CASES = {
    "targeted not a bool": (
        lambda b: mk.fgsm(X, G, 0.1, targeted="yes", backend=b),
        TypeError,
        "targeted must be a bool",
    ),
    "targeted an int": (
        lambda b: mk.pgd_step(X, X, G, 0.1, 0.2, targeted=1, backend=b),
        TypeError,
        "targeted must be a bool",
    ),
    "bits too large": (lambda b: mk.bit_depth(X, 2**31, backend=b), ValueError, "bits must be an integer in 1..64"),
    "mode None": (
        lambda b: mk.median_filter(X, 3, mode=None, backend=b),
        ValueError,
        "mode must be 'reflect' or 'mirror'",
    ),
    "layout bytes": (lambda b: mk.median_filter(X, 3, layout=b"NCHW", backend=b), ValueError, "layout must be"),
    "clip of Nones": (lambda b: mk.fgsm(X, G, 0.1, clip=(None, None), backend=b), TypeError, r"clip must be a pair"),
    "clip of one": (lambda b: mk.fgsm(X, G, 0.1, clip=(0,), backend=b), TypeError, r"clip must be a pair"),
    "clip of three": (lambda b: mk.fgsm(X, G, 0.1, clip=(0, 1, 2), backend=b), TypeError, r"clip must be a pair"),
    "eps a bool": (lambda b: mk.fgsm(X, G, True, backend=b), TypeError, "eps must be a number or one per sample"),
    "out overlaps in part": (_partial_overlap, ValueError, "out overlaps x in part"),
    "image without width": (
        lambda b: mk.random_resize_pad(np.zeros((1, 1, 4, 0), np.float32), 8, seed=0, backend=b),
        ValueError,
        "at least 1 x 1 pixels",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_backend_gives_the_same_error(case, host_backend):
    call, kind, message = CASES[case]
    with pytest.raises(kind, match=message) as e:
        call(host_backend)
    assert "incompatible function arguments" not in str(e.value)


@pytest.mark.parametrize("h", [1e-30, 1e-160, 1e-300, 5e-324])
def test_tiny_h_is_no_nan(host_backend, h):
    # 1 / (t^2 h^2) overflowed to inf, and an exact match's 0 * inf made the weights NaN;
    # below 1e-162 h*h is 0 in double, where Numba's host code raised ZeroDivisionError
    r = mk.non_local_means(X, h=h, backend=host_backend)
    assert np.isfinite(r).all()
    np.testing.assert_allclose(r, X, rtol=0, atol=1e-6)  # only the pixel itself keeps weight


def test_square_attack_refuses_a_nan_eps():
    with pytest.raises(ValueError, match="eps must be finite and > 0"):
        mk.attacks.square_attack(lambda z: np.tile([[0.1, 0.9]], (len(z), 1)), X, np.array([1, 1]), eps=float("nan"))


@pytest.mark.parametrize("backend", [np.zeros(3), [1], b"cpp", 3])
@pytest.mark.parametrize(
    "call",
    [
        lambda b: mk.fgsm(X, G, 0.1, backend=b),
        lambda b: mk.median_filter(X, 3, backend=b),
        lambda b: mk.gaussian_noise(X, 0.1, seed=1, backend=b),
        lambda b: mk.rng.normal((3,), seed=1, backend=b),
        lambda b: mk.output.top_k(np.full((2, 3), 1 / 3, np.float32), 1, backend=b),
    ],
)
def test_a_backend_that_is_not_a_str_is_a_type_error(call, backend):
    # an array or list used to escape as "unhashable type" from the fast path's set lookup
    with pytest.raises(TypeError, match="^backend must be a str"):
        call(backend)


@pytest.mark.parametrize("dtype", ["bfloat16", "complex32"])
def test_a_torch_dtype_numpy_lacks_is_a_type_error(dtype):
    torch = pytest.importorskip("torch", reason="torch is an optional extra")
    if not hasattr(torch, dtype):
        pytest.skip(f"this torch has no {dtype}")
    x = torch.zeros(2, 3, dtype=getattr(torch, dtype))
    with pytest.raises(TypeError, match=f"^x has dtype {dtype}, which NumPy"):
        mk.gaussian_noise(x, 0.1, seed=1)
