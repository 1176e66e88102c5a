"""Bad input gets the same clear exception on every host backend: the fast C++ path, the
C++ general path and Numba raise one type with one message naming the argument (pybind11's
own "incompatible function arguments" dump never reaches a user)."""

import re

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

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
    # the reference takes the same limit (its h*h is 0 below 1e-162: 0/0 weights were NaN)
    np.testing.assert_allclose(mk.reference.non_local_means(X, h=h), X, rtol=0, atol=1e-6)


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


# Found by the fuzz suite (tests/fuzz): each backend refuses with one clear message, the same
# on every backend. A zero-stride view (np.broadcast_to) declares terabytes and holds one
# element: the arguments are checked before anything is copied or allocated like it.
CONTENTS = re.compile(r"array\(|tensor\(|\[\s*-?\d[\d.e+-]*\s+-?\d")  # array elements in a message
HUGE_I32 = np.broadcast_to(np.int32(0), (2**21, 2**21))
HUGE_F32 = np.broadcast_to(np.float32(0), (2**21, 2**21))
P = np.random.default_rng(1).dirichlet(np.ones(4), size=3).astype(np.float32)

IMG_RO = np.zeros((1, 1, 4, 4), np.float32)
IMG_RO.flags.writeable = False  # an out that is both read-only and x

FUZZ_CASES = {}
FUZZ_CASES["huge int data"] = (
    lambda b: mk.fgsm(HUGE_I32, HUGE_I32, 0.1, backend=b),
    TypeError,
    "x must be float32 or float64",
)
FUZZ_CASES["huge 3-D image"] = (
    lambda b: mk.median_filter(np.broadcast_to(np.float32(0), (2**14,) * 3), 3, backend=b),
    ValueError,
    "x must be 4-D",
)
FUZZ_CASES["huge p, out a list"] = (
    lambda b: mk.output.round(HUGE_F32, out=[0.0], backend=b),
    TypeError,
    "out must be an array",
)
FUZZ_CASES["0-d int x"] = (
    lambda b: mk.fgsm(np.zeros((), np.int32), np.zeros((), np.int32), 0.1, backend=b),
    ValueError,
    "x must have at least one axis",
)
FUZZ_CASES["out of another shape"] = (
    lambda b: mk.fgsm(X, G, 0.1, out=np.zeros((2, 3, 8, 9), np.float32), backend=b),
    ValueError,
    r"out must have shape \(2, 3, 8, 8\), got \(2, 3, 8, 9\)$",
)
FUZZ_CASES["out of another dtype"] = (
    lambda b: mk.output.top_k(P, 2, out=np.zeros(P.shape), backend=b),
    TypeError,
    "out must have dtype float32, got float64$",
)
FUZZ_CASES["eps of another length"] = (
    lambda b: mk.fgsm(X, G, np.full(3, 0.1), backend=b),
    ValueError,
    r"one value per sample \(2\), got shape \(3,\)$",
)
FUZZ_CASES["negative sigma"] = (
    lambda b: mk.gaussian_noise(X, -0.5, seed=1, backend=b),
    ValueError,
    "sigma .* got -0.5$",
)
FUZZ_CASES["clip with NaN"] = (
    lambda b: mk.random_start(X, 0.1, seed=1, clip=(float("nan"), 1), backend=b),
    ValueError,
    r"got \(nan, 1.0\)$",
)
FUZZ_CASES["squeeze clip not finite"] = (
    lambda b: mk.bit_depth(X, 3, clip=(0, float("inf")), backend=b),
    ValueError,
    r"low < high, got \(0.0, inf\)$",
)
FUZZ_CASES["squeeze clip span beyond float32"] = (  # hi - lo is inf in float32: NaN out
    lambda b: mk.bit_depth(X, 3, clip=(-3e38, 3e38), backend=b),
    ValueError,
    r"clip must span a finite range in float32 for float32 x, got \(-3e\+38, 3e\+38\)$",
)
FUZZ_CASES["squeeze clip beyond float32"] = (
    lambda b: mk.bit_depth(X, 3, clip=(0, 1e39), backend=b),
    ValueError,
    r"clip must span a finite range in float32 for float32 x, got \(0.0, 1e\+39\)$",
)
FUZZ_CASES["deflections beyond the block counter"] = (  # named, not sample_start's rule
    lambda b: mk.pixel_deflection(np.broadcast_to(np.int16(0), (4096, 3, 8, 8)), 2**62, 1, seed=1, backend=b),
    ValueError,
    r"deflections \* N \* C must be <= 2\*\*63, got 4611686018427387904 \* 4096 \* 3$",
)
FUZZ_CASES["out before sample_start"] = (  # the binding's order: out's rules first
    lambda b: mk.random_start(X, 0.1, seed=1, sample_start=-1, out=np.zeros((2, 3), np.float32), backend=b),
    ValueError,
    r"out must have shape \(2, 3, 8, 8\), got \(2, 3\)$",
)
FUZZ_CASES["NaN bound with an empty array bound"] = (  # Numba took it: (NaN <= empty).all()
    lambda b: mk.project(np.zeros((5, 0, 7)), 0.5, lo=float("nan"), hi=np.zeros((5, 0, 7)), backend=b),
    ValueError,
    "lo must be <= hi everywhere, and neither may be NaN$",
)
FUZZ_CASES["h infinite"] = (
    lambda b: mk.non_local_means(X, h=float("inf"), backend=b),
    ValueError,
    "h must be .* got inf$",
)
FUZZ_CASES["clip of strings"] = (
    lambda b: mk.fgsm(X, G, 0.1, clip=("0", "1"), backend=b),
    TypeError,
    "clip must be a pair",
)
FUZZ_CASES["clip of bools"] = (
    lambda b: mk.fgsm(X, G, 0.1, clip=(False, True), backend=b),
    TypeError,
    "clip must be a pair",
)
FUZZ_CASES["h a string"] = (lambda b: mk.non_local_means(X, h="2", backend=b), TypeError, "h must be a number")
FUZZ_CASES["eps bools"] = (
    lambda b: mk.fgsm(X, G, np.array([True, False]), backend=b),
    TypeError,
    "eps must be a number",
)
FUZZ_CASES["eps complex"] = (lambda b: mk.fgsm(X, G, np.full(2, 1j), backend=b), TypeError, "eps must be a number")
FUZZ_CASES["eps strings"] = (
    lambda b: mk.fgsm(X, G, np.array(["0.1", "0.2"]), backend=b),
    TypeError,
    "eps must be a number",
)
FUZZ_CASES["eps beyond float"] = (
    lambda b: mk.fgsm(X, G, 10**400, backend=b),
    ValueError,
    "eps must be finite .* got inf$",
)
FUZZ_CASES["bits an array"] = (
    lambda b: mk.bit_depth(X, np.array([3]), backend=b),
    TypeError,
    r"bits .* ndarray of shape \(1,\)$",
)
FUZZ_CASES["norm an array"] = (
    lambda b: mk.random_start(X, 0.1, norm=np.array([2, 2]), backend=b),
    ValueError,
    "norm must be",
)
FUZZ_CASES["shape a float"] = (lambda b: mk.rng.uniform(2.5, seed=0, backend=b), TypeError, "shape must be an int")
FUZZ_CASES["shape a bool"] = (lambda b: mk.rng.normal(True, seed=0, backend=b), TypeError, "shape must be an int")
FUZZ_CASES["shape beyond int64"] = (
    lambda b: mk.rng.uniform(10**20, seed=0, backend=b),
    ValueError,
    "shape must have sizes",
)
FUZZ_CASES["dtype not one"] = (
    lambda b: mk.rng.uniform(3, seed=0, dtype=3, backend=b),
    TypeError,
    "dtype must be float32",
)
FUZZ_CASES["offset past the substream"] = (
    lambda b: mk.rng.normal(6, seed=0, offset=2**66 - 4, backend=b),
    ValueError,
    r"offset \+ size <= 2\*\*66",
)
FUZZ_CASES["out_size beyond int32"] = (
    lambda b: mk.random_resize_pad(X, 2**63, seed=0, backend=b),
    ValueError,
    r"out_size must be in \[1, 2\*\*31\)",
)
FUZZ_CASES["deflections beyond int64"] = (
    lambda b: mk.pixel_deflection(X, 10**30, 2, seed=0, backend=b),
    ValueError,
    "deflections must be below 2",
)
FUZZ_CASES["per_sample an array"] = (
    lambda b: mk.random_resize_pad(X, 12, seed=0, per_sample=np.array([1, 2]), backend=b),
    TypeError,
    "per_sample must be a bool",
)
FUZZ_CASES["one_hot an array"] = (
    lambda b: mk.output.top_k(P, 2, one_hot=np.array([1, 2]), backend=b),
    TypeError,
    "one_hot must be a bool",
)
FUZZ_CASES["k beyond int64"] = (lambda b: mk.output.top_k(P, 2**64, backend=b), ValueError, "k is out of range")
FUZZ_CASES["decimals beyond int64"] = (
    lambda b: mk.output.round(P, decimals=2**63, backend=b),
    ValueError,
    "decimals is out of range",
)
FUZZ_CASES["renormalize an array"] = (
    lambda b: mk.output.gaussian_noise(P, renormalize=np.array([True]), backend=b),
    ValueError,
    "renormalize must be",
)

# pgd_step and project checked out after copying their zero-stride inputs (MemoryError)
FUZZ_CASES["pgd_step huge x, out 0-d"] = (
    lambda b: mk.pgd_step(HUGE_F32, HUGE_F32, HUGE_F32, 0.1, 0.1, out=np.empty((), np.float32), backend=b),
    ValueError,
    "out must have at least one axis",
)
FUZZ_CASES["project huge delta, out of another shape"] = (
    lambda b: mk.project(HUGE_F32, 0.1, out=np.empty((2, 2), np.float32), backend=b),
    ValueError,
    r"out must have shape \(2097152, 2097152\), got \(2, 2\)$",
)
FUZZ_CASES["pgd_step huge x, targeted an array"] = (  # out (16 TiB) was made before targeted's check
    lambda b: mk.pgd_step(HUGE_F32, HUGE_F32, HUGE_F32, 0.1, 0.1, targeted=np.array([True, False]), backend=b),
    TypeError,
    "targeted must be a bool",
)
# the image ops' Python checks ran the dtype before the axes, out's overlap before its writability
FUZZ_CASES["non_local_means 3-D float64"] = (
    lambda b: mk.non_local_means(np.zeros((2, 8, 8)), h=1.0, backend=b),
    ValueError,
    "x must be 4-D",
)
FUZZ_CASES["median_filter out read-only and x"] = (
    lambda b: mk.median_filter(IMG_RO, 3, out=IMG_RO, backend=b),
    ValueError,
    "out is read-only$",
)
FUZZ_CASES["random_resize_pad out a view of x"] = (  # refused by the binding, taken by Numba
    lambda b: mk.random_resize_pad(X, 8, seed=0, out=X[:], backend=b),
    ValueError,
    "out must not be x",
)
FUZZ_CASES["median_filter out of another shape"] = (  # the binding said "the shape of x: ... vs ..."
    lambda b: mk.median_filter(
        np.zeros((1, 1, 4, 4), np.float32), 3, out=np.zeros((1, 1, 4, 5), np.float32), backend=b
    ),
    ValueError,
    r"out must have shape \(1, 1, 4, 4\), got \(1, 1, 4, 5\)$",
)
FUZZ_CASES["pixel_deflection out of another shape"] = (
    lambda b: mk.pixel_deflection(X, 2, 1, seed=0, out=np.zeros((2, 3, 8, 9), np.float32), backend=b),
    ValueError,
    r"out must have shape \(2, 3, 8, 8\), got \(2, 3, 8, 9\)$",
)
# float() took strings and bools
FUZZ_CASES["l1_sparsity a string"] = (
    lambda b: mk.pgd_step(X, X, G, 0.1, 0.1, norm=1, l1_sparsity="0.5", backend=b),
    TypeError,
    "l1_sparsity must be a number in",
)
FUZZ_CASES["l1_sparsity a bool"] = (
    lambda b: mk.pgd_step(X, X, G, 0.1, 0.1, norm=1, l1_sparsity=True, backend=b),
    TypeError,
    "l1_sparsity must be a number in .* got True$",
)
# an int beyond float's range is +-inf (the binding raised pybind11's cast error, Python an OverflowError)
FUZZ_CASES["project lo beyond float"] = (
    lambda b: mk.project(X, 0.1, lo=10**400, hi=0.5, backend=b),
    ValueError,
    "lo must be <= hi everywhere",
)

FUZZ_CASES["project huge delta, hi NaN"] = (  # out (16 TiB) was made before the bounds' check
    lambda b: mk.project(HUGE_F32, 0.1, hi=float("nan"), backend=b),
    ValueError,
    "lo must be <= hi everywhere",
)
FUZZ_CASES["a long layout string"] = (  # the binding showed it whole, Python its length
    lambda b: mk.non_local_means(np.zeros((1, 1, 4, 4), np.float32), h=1.0, layout="x" * 100, backend=b),
    ValueError,
    "layout must be 'NCHW' or 'NHWC', got str of length 100$",
)
FUZZ_CASES["a long mode string"] = (
    lambda b: mk.median_filter(np.zeros((1, 1, 4, 4), np.float32), 3, mode="y" * 70, backend=b),
    ValueError,
    "mode must be 'reflect' or 'mirror', got str of length 70$",
)

# finite in float64, inf in float32 data's arithmetic: NaN came out where the reference is finite
FUZZ_CASES["eps beyond float32"] = (
    lambda b: mk.fgsm(X, G, 1e39, backend=b),
    ValueError,
    r"eps must be finite in the data's dtype \(float32\), got 1e\+39$",
)
FUZZ_CASES["step beyond float32 per sample"] = (
    lambda b: mk.pgd_step(X, X, G, np.array([0.1, 3.5e38]), 0.1, backend=b),
    ValueError,
    r"step must be finite and >= 0 for every sample \(in the data's dtype, float32\); sample 1 is not$",
)
FUZZ_CASES["sigma beyond float32, an int"] = (
    lambda b: mk.gaussian_noise(X, 10**39, seed=0, backend=b),
    ValueError,
    "sigma must be finite in the data's dtype",
)
FUZZ_CASES["eps beyond float, an int"] = (  # (pybind11's cast error from the binding)
    lambda b: mk.random_start(X, 10**400, seed=0, backend=b),
    ValueError,
    "eps must be finite and >= 0, got inf$",
)


@pytest.mark.parametrize("case", sorted(FUZZ_CASES))
def test_one_clear_message_on_every_backend(case):
    call, kind, message = FUZZ_CASES[case]
    seen = set()
    for b in ("auto", "cpp", "numba"):
        with pytest.raises(kind, match=message) as e:
            call(b)
        assert not CONTENTS.search(str(e.value)) and "incompatible function arguments" not in str(e.value)
        seen.add((type(e.value), str(e.value)))
    assert len(seen) == 1, seen


@pytest.mark.parametrize("where", ["inputs", "out"])
def test_byte_swapped_arrays_are_float32_all_the_same(where, host_backend):
    """ ">f4" data is float32 in the other byte order: taken (converted), as the binding's
    Fallback means it to be, never refused as another dtype."""
    want = mk.fgsm(X, G - 0.5, 0.1, backend=host_backend)
    if where == "inputs":
        got = mk.fgsm(X.astype(">f4"), (G - 0.5).astype(">f4"), 0.1, backend=host_backend)
        assert got.dtype == np.float32
    else:
        out = np.zeros(X.shape, ">f4")
        got = mk.fgsm(X, G - 0.5, 0.1, out=out, backend=host_backend)
        assert got is out
    np.testing.assert_array_equal(got, want)
    u = mk.rng.uniform(5, seed=3, out=np.zeros(5, ">f4"), backend=host_backend)
    np.testing.assert_array_equal(u, mk.rng.uniform(5, seed=3, backend=host_backend))


def test_renormalize_takes_numpy_bools(host_backend):
    want = mk.output.gaussian_noise(P, scale=0.1, seed=2, renormalize=True, backend=host_backend)
    got = mk.output.gaussian_noise(P, scale=0.1, seed=2, renormalize=np.bool_(True), backend=host_backend)
    np.testing.assert_array_equal(got, want)


def test_nothing_drawn_at_the_end_of_a_substream(host_backend):
    """offset + size <= 2**66 holds for offset 2**66 and size 0: every backend returns the
    empty array (the binding converted the offset's block, 2**64, to a u64 and refused)."""
    got = mk.rng.uniform(0, seed=0, offset=2**66, backend=host_backend)
    assert got.shape == (0,) and got.dtype == np.float32


@pytest.mark.parametrize("step", ["scale", "gamma", "cutoff"])
def test_output_parameter_beyond_float_is_not_finite(step):
    """An int beyond float's range raised OverflowError from math.isinf; it is infinite."""
    call = {
        "scale": lambda b: mk.output.gaussian_noise(P, scale=10**400, seed=0, backend=b),
        "gamma": lambda b: mk.output.reverse_sigmoid(P, gamma=10**400, backend=b),
        "cutoff": lambda b: mk.output.high_confidence(P, cutoff=10**400, backend=b),
    }[step]
    for b in ("auto", "cpp", "numba"):
        with pytest.raises(ValueError, match=f"{step} must be finite .* got inf$"):
            call(b)


@pytest.mark.parametrize("k, classes", [(-1, 0), (0, 2), (5, 4)])
def test_top_k_out_of_range_says_c_everywhere(k, classes):
    """Numba's path built TopK(k) first, whose message lacks C: "k must be in [1, C], got 0"."""
    p = np.zeros((3, classes), np.float32)
    for b in ("auto", "cpp", "numba"):
        with pytest.raises(ValueError, match=rf"^k must be in \[1, C\] = \[1, {classes}\], got {k}$"):
            mk.output.top_k(p, k, backend=b)


@pytest.mark.parametrize(
    "out, message",
    [
        (np.empty((), np.float32), "out must have at least one axis"),
        (np.broadcast_to(np.float32(0), (4, 5)), "out is read-only"),  # and of another shape
    ],
)
def test_out_checked_in_the_bindings_order(out, message):
    """A 0-d or read-only out is refused for that, before its shape: a 0-d out got "at least
    one axis" from the binding and "out must have shape (1,), got ()" from Numba."""
    x = np.zeros(1, np.float32)
    for b in ("auto", "cpp", "numba"):
        with pytest.raises(ValueError, match=message):
            mk.uniform_noise(x, 0.5, seed=1, out=out, backend=b)


def test_project_bounds_beyond_float_are_infinite(host_backend):
    # hi = 10**400 is +inf: no upper bound (the same result as hi=None)
    d = (X - 0.5) * 4
    got = mk.project(d, 0.3, norm=2, lo=-(10**400), hi=10**400, backend=host_backend)
    np.testing.assert_array_equal(got, mk.project(d, 0.3, norm=2, backend=host_backend))


def test_byte_swapped_x_may_be_its_own_out(host_backend):
    # an exact alias of the same (swapped) dtype is an in-place update, not a partial overlap
    x = X.astype(">f4")
    want = mk.fgsm(X, G, 0.1, backend=host_backend)
    got = mk.fgsm(x, G, 0.1, out=x, backend=host_backend)
    assert got is x
    np.testing.assert_array_equal(x, want)


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_eps_beyond_float32_is_fine_for_data_computed_in_float64(dtype, host_backend):
    # float64 data (and integer data, whose noise is computed in float64) keep such values
    x = np.zeros((2, 3), dtype)
    got = mk.uniform_noise(x, 1e39, seed=3, backend=host_backend)
    assert got.dtype == np.float64 and np.isfinite(got).all()
    np.testing.assert_allclose(got, ref.transforms.uniform_noise(x, 1e39, seed=3), rtol=1e-15)


def test_output_reference_takes_byte_swapped_float32_as_float32():
    # reverse_sigmoid's reference works in p's float dtype; ">f4" is float32 (it took float64)
    p = np.random.default_rng(4).standard_normal((3, 5)).astype(np.float32)
    want = ref.output.reverse_sigmoid(p, beta=3.0, gamma=0.1)
    np.testing.assert_array_equal(ref.output.reverse_sigmoid(p.astype(">f4"), beta=3.0, gamma=0.1), want)
