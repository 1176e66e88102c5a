import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from . import kkt
from .helpers import dev, host, norms, skip_unless, tol

# Odd sizes; (2, 70001) crosses the threading threshold with a sample per thread, and
# (1, 70001) splits one sample's passes among threads.
SHAPES = [(1, 1), (3, 7), (5, 3, 11, 13), (2, 70001), (1, 70001)]
NORMS = ["inf", 2, 1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", NORMS)
def test_matches_reference(backend, rng, dtype, shape, norm):
    d = rng.standard_normal(shape).astype(dtype)
    # per-sample eps: some samples inside their ball, most outside
    eps = norms(d, norm) * rng.uniform(0.05, 1.3, shape[0])
    got = mk.project(dev(d, backend), eps, norm=norm, backend=backend)
    assert host(got).dtype == dtype
    np.testing.assert_allclose(host(got), ref.project(d, eps, norm=norm), **tol(dtype))


@pytest.mark.parametrize("norm", [np.inf, "2", "1", 2.0])
def test_norm_spellings_and_in_place(backend, rng, norm):
    d = rng.standard_normal((4, 37)).astype(np.float32)
    want = ref.project(d, 0.5, norm=norm)
    dd = dev(d, backend)
    got = mk.project(dd, 0.5, norm=norm, out=dd, backend=backend)
    assert got is dd
    np.testing.assert_allclose(host(dd), want, **tol(np.float32))


def test_backends_agree_to_the_bit(rng):
    skip_unless("numba")
    for dtype in (np.float32, np.float64):
        d = rng.standard_normal((3, 5000)).astype(dtype)
        for norm in NORMS:
            a = mk.project(d, 3.0, norm=norm, backend="cpp")
            b = mk.project(d, 3.0, norm=norm, backend="numba")
            assert np.array_equal(a, b), norm


def test_one_sample_split_among_threads_is_bit_identical(rng):
    # a sample alone (passes split among threads) and the same sample among others
    d = rng.standard_normal((3, 70001)).astype(np.float32)
    for norm in (2, 1):
        alone = mk.project(d[1:2], 40.0, norm=norm, backend="cpp")
        batch = mk.project(d, 40.0, norm=norm, backend="cpp")
        assert np.array_equal(alone[0], batch[1])


def test_non_contiguous_inputs_and_out(host_backend, rng):
    d = rng.standard_normal((6, 10, 8))[:, ::2, 1::2]
    out = np.full((6, 10, 8), -7.0)[:, 1::2, ::2]
    for norm in NORMS:
        got = mk.project(d, [0.1, 0.5, 1.0, 2.0, 3.0, 100.0], norm=norm, out=out, backend=host_backend)
        assert got is out
        np.testing.assert_allclose(out, ref.project(d, [0.1, 0.5, 1.0, 2.0, 3.0, 100.0], norm=norm), **tol(np.float64))


def test_zero_eps_and_non_finite_samples(host_backend):
    d = np.array([[1.0, -2.0, 3.0], [np.nan, 1.0, 2.0], [np.inf, 1.0, -1.0]])
    for norm in (1, 2):
        got = mk.project(d, [0.0, 1.0, 1.0], norm=norm, backend=host_backend)
        assert np.array_equal(got[0], [0.0, 0.0, 0.0])
        np.testing.assert_array_equal(got[1:], d[1:])  # not finite: unchanged


def test_l1_is_not_a_rescaling(host_backend):
    got = mk.project(np.array([[3.0, 1.0, 0.5]]), 2.0, norm=1, backend=host_backend)
    np.testing.assert_allclose(got, [[2.0, 0.0, 0.0]])  # theta = 1


# Values whose squares are subnormal (|v| < ~1e-154) lose relative precision in the L2 sums
# (docs/projections.md, "Limits"): the properties are asserted above that range.
_NOT_TINY = 1e-150
samples = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 40)),
    elements=st.floats(-10, 10, allow_subnormal=False).filter(lambda v: v == 0 or abs(v) > _NOT_TINY),
)


@settings(max_examples=60, deadline=None)
@given(d=samples, eps=st.floats(0.0, 30.0), norm=st.sampled_from(NORMS), backend=st.sampled_from(["cpp", "numba"]))
def test_properties(d, eps, norm, backend):
    skip_unless(backend)
    p = mk.project(d, eps, norm=norm, backend=backend)
    scale = max(1.0, eps, float(np.abs(d).sum()))
    assert (norms(p, norm) <= eps + 1e-12 * scale).all()  # inside its ball
    again = mk.project(p, eps, norm=norm, backend=backend)
    np.testing.assert_allclose(again, p, rtol=1e-12, atol=1e-12 * scale)  # idempotent
    inside = norms(d, norm) <= eps
    np.testing.assert_array_equal(p[inside], d[inside])  # a point inside is unchanged
    if norm == 1:  # soft threshold: one theta for the sample, signs kept
        for di, pi in zip(d[~inside], p[~inside]):
            nz = pi != 0
            assert (np.sign(pi[nz]) == np.sign(di[nz])).all()
            np.testing.assert_allclose(np.abs(pi).sum(), eps, rtol=1e-9, atol=1e-9)
            if nz.any():
                theta = np.abs(di[nz]) - np.abs(pi[nz])
                np.testing.assert_allclose(theta, theta[0], rtol=1e-9, atol=1e-9 * scale)
                assert (np.abs(di[~nz]) <= theta[0] + 1e-9 * scale).all()


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(norm=3), ValueError, "norm must be"),
        (dict(norm="l3"), ValueError, "norm must be"),
        (dict(norm=None), ValueError, "norm must be"),
        (dict(norm=True), ValueError, "norm must be"),
        (dict(eps=-0.1), ValueError, "eps must be finite and >= 0"),
        (dict(eps=float("inf")), ValueError, "eps must be finite"),
        (dict(eps=np.array([0.1, 0.2, 0.3])), ValueError, "eps must be a scalar or have one value per sample"),
        (dict(out=np.zeros((2, 5), np.float32)), ValueError, "out must have.*shape"),
        (dict(out=np.zeros((2, 4), np.float64)), TypeError, "out must have.*dtype"),
        (dict(delta=np.zeros((2, 4), np.int32)), TypeError, "delta must be float32 or float64"),
        (dict(backend="cuda"), ValueError, "needs device arrays"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(delta=np.zeros((2, 4), np.float32), eps=0.1, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.project(args.pop("delta"), args.pop("eps"), **args)


def test_binding_checks_its_arguments():
    skip_unless("cpp")
    d = np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError, match="norm must be"):
        mk._backend._cpu.project(d, 0.1, 3, None, None, np.empty_like(d))
    with pytest.raises(ValueError, match="eps must be finite"):
        mk._backend._cpu.project(d, float("nan"), 1, None, None, np.empty_like(d))
    buf = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match="overlaps"):
        mk._backend._cpu.project(buf[:8].reshape(2, 4), 0.1, 2, None, None, buf[2:].reshape(2, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_heavy_tail_small_eps(backend, rng, dtype):
    # many compacting sweeps before the estimate settles: the Condat stage runs
    d = (rng.standard_exponential((3, 20001)) ** 3 * rng.choice([-1, 1], (3, 20001))).astype(dtype)
    eps = np.abs(d.astype(np.float64)).sum(1) * np.array([1e-5, 1e-4, 1e-3])
    got = mk.project(dev(d, backend), eps, norm=1, backend=backend)
    # |d| - theta cancels: float32 rounding of theta is relative to max|d|, not to the result
    atol = tol(dtype)["atol"] * float(np.abs(d).max())
    np.testing.assert_allclose(host(got), ref.project(d, eps, norm=1), rtol=tol(dtype)["rtol"], atol=atol)


def test_slowly_settling_row(backend):
    # a geometric row settles slowly from below (7 Michelot steps)
    d = (0.999 ** np.arange(20000))[None]
    eps = 1e-2 * d.sum()
    got = mk.project(dev(d, backend), eps, norm=1, backend=backend)
    np.testing.assert_allclose(host(got), ref.project(d, eps, norm=1), **tol(np.float64))


@pytest.mark.parametrize("frac", [1e-4, 1e-2, 0.3, 0.9])
def test_condat_stage(rng, frac):
    # Condat's algorithm (cpp/project.cpp, ported as _numba.project._condat) finishes rows
    # that Michelot's steps have not settled; typical rows never reach it, so test it alone
    skip_unless("numba")
    from mlsec_kernels._numba.project import _condat

    for a in (np.abs(rng.standard_normal(5001)), rng.standard_exponential(3000) ** 3, 0.999 ** np.arange(4000)):
        eps = frac * a.sum()
        u = np.sort(a)[::-1]
        css = np.cumsum(u)
        rho = np.nonzero(u * np.arange(1, a.size + 1) > css - eps)[0][-1]
        np.testing.assert_allclose(_condat(a, eps, np.empty(2 * a.size)), (css[rho] - eps) / (rho + 1), rtol=1e-9)


# ---- the ball intersected with a box: project(..., lo=, hi=) ----------------------------


def _box(rng, shape, dtype, kind):
    """Bounds around 0 of the given kind: scalars, arrays like delta, or one of each."""
    lo = -rng.uniform(0.0, 1.5, shape).astype(dtype)
    hi = rng.uniform(0.0, 1.5, shape).astype(dtype)
    lo.flat[:: max(1, lo.size // 5)] = 0  # elements with no room on one side
    return {"scalars": (-0.4, 0.7), "arrays": (lo, hi), "mixed": (lo, 0.7)}[kind]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("kind", ["scalars", "arrays", "mixed"])
def test_box_matches_reference(backend, rng, dtype, shape, norm, kind):
    d = rng.standard_normal(shape).astype(dtype)
    lo, hi = _box(rng, shape, dtype, kind)
    # per-sample eps: some samples inside the ball, most outside
    eps = norms(np.clip(d, lo, hi), norm) * rng.uniform(0.05, 1.3, shape[0])
    got = mk.project(dev(d, backend), eps, norm=norm, lo=dev(lo, backend), hi=dev(hi, backend), backend=backend)
    assert host(got).dtype == dtype
    want = ref.project(d, eps, norm=norm, lo=lo, hi=hi)
    np.testing.assert_allclose(host(got), want, **tol(dtype))
    # (a scalar bound is taken in the data's dtype, as pgd_step's clip is)
    assert (host(got) >= np.asarray(lo, dtype)).all() and (host(got) <= np.asarray(hi, dtype)).all()


@pytest.mark.parametrize("norm", [2, 1])
def test_box_brute_force(host_backend, rng, norm):
    # against SciPy's SLSQP on small problems (including the reference itself)
    for _ in range(40):
        n = int(rng.integers(1, 8))
        v = rng.standard_normal(n)
        lo, hi = -rng.uniform(0, 1, n), rng.uniform(0, 1, n)
        eps = float(rng.uniform(0.05, 2.0))
        want = kkt.brute(v, eps, lo, hi, norm)
        got = mk.project(v[None], eps, norm=norm, lo=lo[None], hi=hi[None], backend=host_backend)[0]
        np.testing.assert_allclose(got, want, atol=1e-6)
        np.testing.assert_allclose(ref.project(v[None], eps, norm=norm, lo=lo[None], hi=hi[None])[0], want, atol=1e-6)
        assert kkt.kkt_violation(v, eps, lo, hi, got, norm) < 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm", [2, 1])
def test_box_kkt_large(backend, rng, dtype, norm):
    # the KKT conditions on large rows; heavy-tailed values so that many elements clip
    d = (rng.standard_t(2, (3, 50001)) * 0.3).astype(dtype)
    lo = -rng.uniform(0, 0.5, d.shape).astype(dtype)
    hi = rng.uniform(0, 0.5, d.shape).astype(dtype)
    eps = norms(np.clip(d, lo, hi), norm) * np.array([0.02, 0.3, 0.9])
    got = host(mk.project(dev(d, backend), eps, norm=norm, lo=dev(lo, backend), hi=dev(hi, backend), backend=backend))
    worst = max(kkt.kkt_violation(d[i], eps[i], lo[i], hi[i], got[i], norm) for i in range(3))
    assert worst < (1e-5 if dtype == np.float32 else 1e-12)
    # the plain projection clipped afterwards is not the answer: it ends inside the ball
    clipped = np.clip(ref.project(d, eps, norm=norm), lo, hi)
    assert (norms(clipped, norm) < eps * (1 - 1e-3)).all()
    np.testing.assert_allclose(norms(got, norm), eps, rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_box_backends_agree_to_the_bit(rng):
    skip_unless("numba")
    for dtype in (np.float32, np.float64):
        d = rng.standard_normal((3, 5000)).astype(dtype)
        lo, hi = _box(rng, d.shape, dtype, "arrays")
        for norm in NORMS:
            for b in ((lo, hi), (-0.3, hi), (-0.3, 0.4)):
                a = mk.project(d, 3.0, norm=norm, lo=b[0], hi=b[1], backend="cpp")
                c = mk.project(d, 3.0, norm=norm, lo=b[0], hi=b[1], backend="numba")
                assert np.array_equal(a, c), norm


def test_box_one_sample_split_among_threads_is_bit_identical(rng):
    d = rng.standard_normal((3, 70001)).astype(np.float32)
    lo, hi = _box(rng, d.shape, np.float32, "arrays")
    for norm in (2, 1):
        alone = mk.project(d[1:2], 40.0, norm=norm, lo=lo[1:2], hi=hi[1:2], backend="cpp")
        batch = mk.project(d, 40.0, norm=norm, lo=lo, hi=hi, backend="cpp")
        assert np.array_equal(alone[0], batch[1])


@pytest.mark.parametrize("norm", NORMS)
def test_box_in_place_and_aliased_bounds(host_backend, rng, norm):
    d = rng.standard_normal((4, 301))
    lo, hi = _box(rng, d.shape, np.float64, "arrays")
    want = ref.project(d, 2.0, norm=norm, lo=lo, hi=hi)
    dd = d.copy()
    assert mk.project(dd, 2.0, norm=norm, lo=lo, hi=hi, out=dd, backend=host_backend) is dd
    np.testing.assert_allclose(dd, want, **tol(np.float64))
    lo2 = lo.copy()  # out may be one of the bounds, exactly
    mk.project(d, 2.0, norm=norm, lo=lo2, hi=hi, out=lo2, backend=host_backend)
    np.testing.assert_allclose(lo2, want, **tol(np.float64))


def test_box_that_excludes_zero(host_backend):
    # the bounds need not hold 0: the projection where ball and box meet, else the box's
    # point nearest the origin (the limit of an infinite multiplier)
    d = np.array([[1.0, 1.0], [1.0, 1.0], [-1.0, 3.0]])
    lo = np.array([[0.7, -1.0], [0.5, 0.9], [0.2, -2.0]])
    hi = np.full_like(d, 5.0)
    for norm in (2, 1):
        got = mk.project(d, [0.8, 0.8, 1.5], norm=norm, lo=lo, hi=hi, backend=host_backend)
        np.testing.assert_allclose(got, ref.project(d, [0.8, 0.8, 1.5], norm=norm, lo=lo, hi=hi), atol=1e-12)
        np.testing.assert_allclose(got[1], [0.5, 0.9])  # infeasible: nearest box point to 0
        np.testing.assert_allclose(np.linalg.norm(got[0], ord=norm), 0.8)  # feasible: on the sphere
        assert got[0, 0] == 0.7  # held at its bound, away from 0: the other element makes up the norm


def test_box_unbounded_is_the_plain_projection(host_backend, rng):
    d = rng.standard_normal((3, 513)).astype(np.float32)
    for norm in NORMS:
        plain = mk.project(d, 4.0, norm=norm, backend=host_backend)
        assert np.array_equal(mk.project(d, 4.0, norm=norm, lo=-np.inf, hi=np.inf, backend=host_backend), plain)
        # a box that never binds: the search starts at the ball's answer and stops there
        assert np.array_equal(mk.project(d, 4.0, norm=norm, lo=-1e3, hi=1e3, backend=host_backend), plain)


def test_box_zero_eps_and_non_finite(host_backend):
    d = np.array([[1.0, -2.0, 3.0], [np.nan, 1.0, 2.0], [np.inf, 1.0, -1.0]])
    for norm in (1, 2):
        got = mk.project(d, [0.0, 1.0, 1.0], norm=norm, lo=-0.5, hi=0.5, backend=host_backend)
        np.testing.assert_array_equal(got[0], [0.0, 0.0, 0.0])
        np.testing.assert_array_equal(got[1:], np.clip(d[1:], -0.5, 0.5))  # not finite: only clipped


@settings(max_examples=60, deadline=None)
@given(
    d=samples,
    eps=st.floats(0.0, 30.0).filter(lambda e: e == 0 or e > _NOT_TINY),
    box=st.tuples(st.floats(-5, 0), st.floats(0, 5)),
    norm=st.sampled_from(NORMS),
    backend=st.sampled_from(["cpp", "numba"]),
)
def test_box_properties(d, eps, box, norm, backend):
    skip_unless(backend)
    lo, hi = box
    p = mk.project(d, eps, norm=norm, lo=lo, hi=hi, backend=backend)
    scale = max(1.0, eps, float(np.abs(d).sum()))
    assert (p >= lo).all() and (p <= hi).all()
    assert (norms(p, norm) <= eps + 1e-12 * scale).all()
    again = mk.project(p, eps, norm=norm, lo=lo, hi=hi, backend=backend)
    np.testing.assert_allclose(again, p, rtol=1e-12, atol=1e-12 * scale)  # idempotent
    np.testing.assert_allclose(p, ref.project(d, eps, norm=norm, lo=lo, hi=hi), rtol=1e-9, atol=1e-9 * scale)
    if norm != "inf":
        for i in range(len(d)):
            lo_i, hi_i = np.full(d.shape[1], lo), np.full(d.shape[1], hi)
            assert kkt.kkt_violation(d[i], eps, lo_i, hi_i, p[i], norm) < 1e-9


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(lo=1.0, hi=0.0), ValueError, "lo must be <= hi everywhere"),
        (dict(lo=float("nan")), ValueError, "lo must be <= hi everywhere"),
        (dict(hi=np.full((2, 4), np.nan, np.float32)), ValueError, "lo must be <= hi everywhere"),
        (dict(lo=np.zeros((2, 4), np.float32), hi=np.full((2, 4), -1.0, np.float32)), ValueError, "lo must be <= hi"),
        (dict(lo=True), TypeError, "lo must be None, a number or an array like delta, got bool"),
        (dict(hi=np.zeros((2, 5), np.float32)), ValueError, "hi must have the shape of delta"),
        (dict(lo=np.zeros((2, 4), np.float64)), TypeError, "lo must have the dtype of delta"),
        (dict(lo="0"), TypeError, "lo must be"),
    ],
)
def test_box_bad_input(host_backend, kwargs, err, match):
    args = dict(delta=np.zeros((2, 4), np.float32), eps=0.1, backend=host_backend)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.project(args.pop("delta"), args.pop("eps"), **args)


def test_box_binding_checks_its_arguments():
    skip_unless("cpp")
    d = np.zeros((2, 4), np.float32)
    cpu = mk._backend._cpu
    with pytest.raises(ValueError, match="lo must be <= hi everywhere"):
        cpu.project(d, 0.1, 2, 1.0, 0.0, np.empty_like(d))
    with pytest.raises(ValueError, match="lo must be <= hi everywhere"):
        cpu.project(d, 0.1, 2, np.ones_like(d), np.zeros_like(d), np.empty_like(d))
    with pytest.raises(ValueError, match="hi must have the shape of delta"):
        cpu.project(d, 0.1, 2, None, np.zeros((4, 2), np.float32), np.empty_like(d))
    buf = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match="overlaps lo"):
        cpu.project(d, 0.1, 2, buf[:8].reshape(2, 4), None, buf[2:].reshape(2, 4))
