import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from . import kkt
from .helpers import dev, host, skip_unless, tol

SHAPES = [(1, 1), (3, 7), (5, 3, 11, 13), (2, 70001), (1, 70001)]
NORMS = ["inf", 2, 1]


def _batch(rng, shape, dtype, spread=0.05):
    x0 = rng.random(shape).astype(dtype)
    x = np.clip(x0 + spread * rng.standard_normal(shape), 0, 1).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    return x, x0, g


def _step_eps(rng, shape, norm):
    """Per-sample step and eps of the norm's natural size (so that some samples project)."""
    size = float(np.prod(shape[1:]))
    unit = {"inf": 1.0, 2: np.sqrt(size), 1: size}[norm]
    return rng.uniform(0.005, 0.05, shape[0]) * unit, rng.uniform(0.005, 0.05, shape[0]) * unit


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("targeted", [False, True])
def test_matches_reference(backend, rng, dtype, shape, norm, targeted):
    x, x0, g = _batch(rng, shape, dtype)
    g.flat[:: max(1, g.size // 7)] = 0
    step, eps = _step_eps(rng, shape, norm)
    got = mk.pgd_step(
        dev(x, backend), dev(x0, backend), dev(g, backend), step, eps, norm=norm, targeted=targeted, backend=backend
    )
    assert host(got).dtype == dtype
    want = ref.pgd_step(x, x0, g, step, eps, norm=norm, targeted=targeted)
    np.testing.assert_allclose(host(got), want, **tol(dtype))


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("q", [0.0, 0.5, 0.9, 1.0])
def test_in_place_scalar_params_no_clip(backend, rng, norm, q):
    x, x0, g = _batch(rng, (4, 333), np.float32)
    want = ref.pgd_step(x, x0, g, 0.02, 0.03, norm=norm, clip=None, l1_sparsity=q)
    xd = dev(x, backend)
    got = mk.pgd_step(
        xd, dev(x0, backend), dev(g, backend), 0.02, 0.03, norm=norm, clip=None, l1_sparsity=q, out=xd, backend=backend
    )
    assert got is xd
    np.testing.assert_allclose(host(xd), want, **tol(np.float32))


def test_backends_agree_to_the_bit(rng):
    skip_unless("numba")
    for dtype in (np.float32, np.float64):
        x, x0, g = _batch(rng, (3, 5000), dtype)
        for norm in NORMS:
            step, eps = _step_eps(rng, (3, 5000), norm)
            a = mk.pgd_step(x, x0, g, step, eps, norm=norm, backend="cpp")
            b = mk.pgd_step(x, x0, g, step, eps, norm=norm, backend="numba")
            assert np.array_equal(a, b), norm


def test_one_sample_split_among_threads_is_bit_identical(rng):
    x, x0, g = _batch(rng, (3, 70001), np.float32)
    for norm in NORMS:
        alone = mk.pgd_step(x[1:2], x0[1:2], g[1:2], 3.0, 2.0, norm=norm, backend="cpp")
        batch = mk.pgd_step(x, x0, g, 3.0, 2.0, norm=norm, backend="cpp")
        assert np.array_equal(alone[0], batch[1])


def test_non_contiguous_inputs_and_out(host_backend, rng):
    x = rng.random((6, 10, 8))[:, ::2, 1::2]
    x0 = rng.random((8, 5, 6)).transpose(2, 1, 0)[:, :, :4]
    g = rng.standard_normal((6, 10, 8))[:, 1::2, ::2]
    out = np.full((6, 10, 8), -7.0)[:, 1::2, ::2]
    for norm in NORMS:
        got = mk.pgd_step(x, x0, g, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 0.3, norm=norm, out=out, backend=host_backend)
        assert got is out
        np.testing.assert_allclose(
            out, ref.pgd_step(x, x0, g, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], 0.3, norm=norm), **tol(np.float64)
        )


@pytest.mark.parametrize("norm", NORMS)
def test_zero_gradient_gives_zero_step(backend, rng, norm):
    x, x0, _ = _batch(rng, (3, 50), np.float32, spread=0.001)
    g = np.zeros_like(x)
    got = host(mk.pgd_step(dev(x, backend), dev(x0, backend), dev(g, backend), 0.5, 10.0, norm=norm, backend=backend))
    assert not np.isnan(got).any()
    np.testing.assert_array_equal(got, np.clip(x0 + (x - x0), 0, 1))


def test_nan_gradient_propagates(host_backend, rng):
    x, x0, g = _batch(rng, (2, 9), np.float64)
    g[0, 3] = np.nan
    for norm in (1, 2):
        got = mk.pgd_step(x, x0, g, 0.1, 1.0, norm=norm, backend=host_backend)
        assert np.isnan(got[0]).all() and not np.isnan(got[1]).any()


@pytest.mark.parametrize("q", [0.0, 0.25, 0.5, 0.6, 0.75, 0.99, 1.0])
def test_l1_quantile_ties_move_together(backend, q):
    # |g| has ties straddling most quantile positions; tied coordinates are all in or all out
    g = np.array([[1.0, -1.0, 2.0, 2.0, -2.0, 0.5, 0.0, 2.0, -1.0, 3.0, 0.5]])
    x = np.full_like(g, 0.5)
    got = host(
        mk.pgd_step(
            dev(x, backend),
            dev(x, backend),
            dev(g, backend),
            1.0,
            100.0,
            norm=1,
            clip=None,
            l1_sparsity=q,
            backend=backend,
        )
    )
    moved = got[0] != 0.5
    a = np.abs(g[0])
    for v in np.unique(a[a > 0]):
        assert moved[a == v].all() or not moved[a == v].any()
    np.testing.assert_allclose(np.abs(got[0] - 0.5).sum(), 1.0)  # unit L1 step
    np.testing.assert_allclose(got, ref.pgd_step(x, x, g, 1.0, 100.0, norm=1, clip=None, l1_sparsity=q))


def test_quantile_rule_matches_numpy_quantile(rng):
    for d in (2, 7, 100, 1001):
        g = rng.standard_normal(d)
        for q in (0.0, 0.3, 0.5, 0.99, 1.0):
            np.testing.assert_array_equal(ref.perturb.l1_quantile_mask(g, q), np.abs(g) >= np.quantile(np.abs(g), q))


batches = st.tuples(st.integers(1, 3), st.integers(1, 30)).flatmap(
    lambda s: st.tuples(
        *[hnp.arrays(np.float64, s, elements=st.floats(lo, hi)) for lo, hi in ((0, 1), (0, 1), (-5, 5))]
    )
)


@settings(max_examples=100, deadline=None)
@given(
    xs=batches,
    step=st.floats(0, 2),
    eps=st.floats(0, 3),
    norm=st.sampled_from(NORMS),
    q=st.floats(0, 1),
    boxed=st.booleans(),
    backend=st.sampled_from(["cpp", "numba"]),
)
def test_properties(xs, step, eps, norm, q, boxed, backend):
    skip_unless(backend)
    x, x0, g = xs
    clip = (0.0, 1.0) if boxed else None
    got = mk.pgd_step(x, x0, g, step, eps, norm=norm, l1_sparsity=q, clip=clip, backend=backend)
    p = {"inf": np.inf, 2: 2, 1: 1}[norm]
    nrm = np.linalg.norm((got - x0).reshape(len(x), -1), ord=p, axis=1)
    assert (nrm <= eps * (1 + 1e-12) + 1e-12).all()  # every sample inside its ball
    if boxed:  # and the box, on the sphere whenever the box lets the step reach it
        assert (got >= 0).all() and (got <= 1).all()
        reach = np.linalg.norm(np.clip(x0 + _direction(x, x0, g, step, norm, q), 0, 1) - x0, ord=p, axis=1)
        np.testing.assert_allclose(nrm[reach > eps], eps, rtol=1e-9, atol=1e-12)  # (x0 + delta rounds)
    np.testing.assert_allclose(
        got, ref.pgd_step(x, x0, g, step, eps, norm=norm, l1_sparsity=q, clip=clip), rtol=1e-9, atol=1e-9
    )


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(norm=3), ValueError, "norm must be"),
        (dict(norm="L3"), ValueError, "norm must be"),
        (dict(x0=np.zeros((3, 4), np.float32)), ValueError, "x0 must have the shape"),
        (dict(grad=np.zeros((2, 4), np.float64)), TypeError, "grad must have the dtype"),
        (dict(step=-0.1), ValueError, "step must be finite and >= 0"),
        (dict(step=float("nan")), ValueError, "step must be finite"),
        (dict(eps=float("inf")), ValueError, "eps must be finite"),
        (dict(eps=[0.1, -0.2]), ValueError, "eps must be finite and >= 0"),
        (dict(step=np.array([0.1, 0.2, 0.3])), ValueError, "step must be a scalar or have one value per sample"),
        (dict(l1_sparsity=1.5), ValueError, "l1_sparsity must be in"),
        (dict(l1_sparsity=-0.01), ValueError, "l1_sparsity must be in"),
        (dict(l1_sparsity=float("nan")), ValueError, "l1_sparsity must be in"),
        (dict(clip=(1.0, 0.0)), ValueError, "clip must be"),
        (dict(out=np.zeros((2, 5), np.float32)), ValueError, "out must have.*shape"),
        (dict(x=np.zeros((2, 4), np.int32)), TypeError, "x must be float32 or float64"),
        (dict(backend="cuda"), ValueError, "needs device arrays"),
    ],
)
def test_bad_input(host_backend, kwargs, err, match):
    args = dict(
        x=np.zeros((2, 4), np.float32),
        x0=np.zeros((2, 4), np.float32),
        grad=np.zeros((2, 4), np.float32),
        step=0.1,
        eps=0.2,
        norm=1,
        backend=host_backend,
    )
    args.update(kwargs)
    with pytest.raises(err, match=match):
        mk.pgd_step(args.pop("x"), args.pop("x0"), args.pop("grad"), args.pop("step"), args.pop("eps"), **args)


def test_binding_checks_its_arguments():
    skip_unless("cpp")
    a = np.zeros((2, 4), np.float32)
    cpu = mk._backend._cpu
    with pytest.raises(ValueError, match="norm must be"):
        cpu.pgd_step(a, a, a, 0.1, 0.1, 5, False, 0.5, 0.0, 1.0, 0, np.empty_like(a))
    with pytest.raises(ValueError, match="l1_sparsity must be in"):
        cpu.pgd_step(a, a, a, 0.1, 0.1, 1, False, 2.0, 0.0, 1.0, 0, np.empty_like(a))
    with pytest.raises(ValueError, match="step must be finite"):
        cpu.pgd_step(a, a, a, -1.0, 0.1, 1, False, 0.5, 0.0, 1.0, 0, np.empty_like(a))
    with pytest.raises(ValueError, match="clip must be"):
        cpu.pgd_step(a, a, a, 0.1, 0.1, 1, False, 0.5, 1.0, 0.0, 0, np.empty_like(a))
    with pytest.raises(ValueError, match="projection must be 'exact' .code 0. or 'ball_then_clip' .code 1."):
        cpu.pgd_step(a, a, a, 0.1, 0.1, 2, False, 0.5, 0.0, 1.0, 2, np.empty_like(a))


@pytest.mark.parametrize("shape", [(0, 5), (3, 0), (0, 3, 2)])
@pytest.mark.parametrize("norm", NORMS)
def test_empty(host_backend, shape, norm):
    x = np.zeros(shape, np.float32)
    got = mk.pgd_step(x, x, x, 0.1, 0.2, norm=norm, backend=host_backend)
    assert got.shape == shape
    assert mk.project(x, 0.2, norm=norm, backend=host_backend).shape == shape


def test_l2_step_with_a_tiny_gradient_stays_in_the_ball(host_backend):
    # found by test_properties: a = step/||g|| is 1.9e157 for g = 5.3e-158, and a^2 * ||g||^2
    # overflowed to inf, so the step was never projected back into the eps = 0 ball
    x = np.zeros((1, 1))
    got = mk.pgd_step(x, x, np.array([[5.2975453e-158]]), 1.0, 0.0, norm=2, backend=host_backend)
    np.testing.assert_array_equal(got, [[0.0]])


# ---- the projection onto the ball intersected with the box --------------------------------


def _direction(x, x0, g, step, norm, q=0.99):
    """delta before the projection, x + step * dir(g) - x0, from the reference's direction
    (the unprojected step of a clip=None, eps=inf call)."""
    return ref.pgd_step(x, x0, g, step, np.inf, norm=norm, clip=None, l1_sparsity=q) - np.asarray(x0, np.float64)


@pytest.mark.parametrize("norm", [2, 1])
def test_worked_example(backend, norm):
    # x0 = (0.9, 0.5), gradient along (1, 1), eps 0.5, step 1: the first pixel saturates at
    # 1, the exact projection gives the second the rest of the budget; ball-then-clip leaves
    # the iterate inside the ball (ART 1.20, clip then rescale: (0.9981, 0.9903), norm 0.5)
    x0 = np.array([[0.9, 0.5]])
    g = np.array([[1.0, 1.0]])
    kw = dict(norm=norm, l1_sparsity=0.0, backend=backend)
    got = host(mk.pgd_step(dev(x0, backend), dev(x0, backend), dev(g, backend), 1.0, 0.5, **kw))
    old = host(
        mk.pgd_step(dev(x0, backend), dev(x0, backend), dev(g, backend), 1.0, 0.5, projection="ball_then_clip", **kw)
    )
    if norm == 2:  # delta = (0.1, sqrt(0.5^2 - 0.1^2)); the ball first: 0.5 + 0.5 / sqrt(2)
        np.testing.assert_allclose(got, [[1.0, 0.5 + np.sqrt(0.25 - 0.01)]], rtol=1e-15)
        np.testing.assert_allclose(old, [[1.0, 0.5 + 0.5 / np.sqrt(2)]], rtol=1e-15)
    else:  # the L1 step (0.5, 0.5): the first element is capped at 0.1, tau = 0.1
        np.testing.assert_allclose(got, [[1.0, 0.9]], rtol=1e-15)
        np.testing.assert_allclose(old, [[1.0, 0.75]], rtol=1e-15)
    assert np.linalg.norm((got - x0)[0], ord=norm) == pytest.approx(0.5, rel=1e-15)
    assert np.linalg.norm((old - x0)[0], ord=norm) < 0.45


@pytest.mark.parametrize("norm", [2, 1])
def test_exact_brute_force(host_backend, rng, norm):
    # against SciPy's SLSQP on small problems: the step's delta projected onto the ball
    # intersected with [lo - x0, hi - x0]
    for _ in range(30):
        n = int(rng.integers(1, 8))
        x0 = rng.random((1, n))
        x0[0, : n // 3] = rng.choice([0.0, 1.0], n // 3)  # saturated pixels
        x = np.clip(x0 + 0.1 * rng.standard_normal((1, n)), 0, 1)
        g = rng.standard_normal((1, n))
        step, eps = float(rng.uniform(0.05, 1.0)), float(rng.uniform(0.05, 0.6))
        got = mk.pgd_step(x, x0, g, step, eps, norm=norm, l1_sparsity=0.5, backend=host_backend)
        v = _direction(x, x0, g, step, norm, 0.5)[0]
        want = x0[0] + kkt.brute(v, eps, -x0[0], 1 - x0[0], norm)
        np.testing.assert_allclose(got[0], want, atol=1e-6)
        assert kkt.kkt_violation(v, eps, -x0[0], 1 - x0[0], got[0] - x0[0], norm) < 1e-12


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm", [2, 1])
def test_exact_kkt_large(backend, rng, dtype, norm):
    # the KKT conditions on large rows with many saturated pixels, per-sample step and eps
    shape = (3, 40001)
    x, x0, g = _batch(rng, shape, dtype, spread=0.2)
    x0[:, ::3] = np.round(x0[:, ::3])
    step, eps = _step_eps(rng, shape, norm)
    got = host(
        mk.pgd_step(dev(x, backend), dev(x0, backend), dev(g, backend), 4 * step, eps, norm=norm, backend=backend)
    )
    v = _direction(x, x0, g, 4 * step, norm)
    x0d = x0.astype(np.float64)
    worst = max(kkt.kkt_violation(v[i], eps[i], -x0d[i], 1 - x0d[i], got[i] - x0d[i], norm) for i in range(3))
    assert worst < (1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(
        np.linalg.norm(got - x0d, ord=norm, axis=1), eps, rtol=1e-5 if dtype == np.float32 else 1e-12
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 7), (5, 3, 11, 13), (2, 70001)])
@pytest.mark.parametrize("norm", NORMS)
def test_ball_then_clip_matches_reference(backend, rng, dtype, shape, norm):
    # the order of earlier releases, clip(x0 + P_ball(delta)), kept as an option
    x, x0, g = _batch(rng, shape, dtype)
    step, eps = _step_eps(rng, shape, norm)
    got = mk.pgd_step(
        dev(x, backend),
        dev(x0, backend),
        dev(g, backend),
        step,
        eps,
        norm=norm,
        projection="ball_then_clip",
        backend=backend,
    )
    want = ref.pgd_step(x, x0, g, step, eps, norm=norm, projection="ball_then_clip")
    np.testing.assert_allclose(host(got), want, **tol(dtype))
    d = np.asarray(x0, np.float64)
    plain = np.clip(d + ref.project(_direction(x, x0, g, step, norm).reshape(shape), eps, norm=norm), 0, 1)
    np.testing.assert_allclose(want, plain, rtol=1e-12, atol=1e-12)


def test_exact_and_ball_then_clip_agree_where_nothing_clips(rng):
    # interior pixels and small steps: the box is inactive, and the exact projection returns
    # the ball's projection to the bit (its search starts there and stops at once)
    x0 = rng.uniform(0.3, 0.7, (4, 999))
    x = x0 + rng.uniform(-0.01, 0.01, x0.shape)
    g = rng.standard_normal(x0.shape)
    for backend in ("cpp", "numba"):
        skip_unless(backend)
        for dtype in (np.float32, np.float64):
            args = [a.astype(dtype) for a in (x, x0, g)]
            for norm, step, eps in (("inf", 0.01, 0.02), (2, 0.3, 0.4), (1, 3.0, 4.0)):
                a = mk.pgd_step(*args, step, eps, norm=norm, backend=backend)
                b = mk.pgd_step(*args, step, eps, norm=norm, projection="ball_then_clip", backend=backend)
                assert np.array_equal(a, b), (norm, dtype)


@pytest.mark.parametrize("norm", [2, 1])
def test_exact_in_place_and_out_aliasing_x0(host_backend, rng, norm):
    x, x0, g = _batch(rng, (4, 517), np.float32, spread=0.2)
    step, eps = _step_eps(rng, (4, 517), norm)
    want = ref.pgd_step(x, x0, g, step, eps, norm=norm)
    xi = x.copy()
    assert mk.pgd_step(xi, x0, g, step, eps, norm=norm, out=xi, backend=host_backend) is xi
    np.testing.assert_allclose(xi, want, **tol(np.float32))
    x0i = x0.copy()  # out = x0: the search must not read what the output pass wrote
    mk.pgd_step(x, x0i, g, step, eps, norm=norm, out=x0i, backend=host_backend)
    np.testing.assert_allclose(x0i, want, **tol(np.float32))


def test_exact_with_x0_outside_the_clip(host_backend, rng):
    # clip narrower than the data: delta's box [lo - x0, hi - x0] may exclude 0; where no
    # point of the box is in the ball, the result is x0 clipped (the box point nearest x0)
    x0 = rng.random((3, 64))
    x = x0.copy()
    g = rng.standard_normal(x0.shape)
    for norm in (2, 1):
        for eps in (0.05, 2.0):
            got = mk.pgd_step(x, x0, g, 0.5, eps, norm=norm, clip=(0.2, 0.8), backend=host_backend)
            np.testing.assert_allclose(got, ref.pgd_step(x, x0, g, 0.5, eps, norm=norm, clip=(0.2, 0.8)), atol=1e-12)
            if eps == 0.05:
                np.testing.assert_array_equal(got, np.clip(x0, 0.2, 0.8))


@pytest.mark.parametrize("bad", ["Exact", "ball", 0, None, True])
def test_bad_projection(host_backend, bad):
    a = np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError, match="projection must be 'exact' or 'ball_then_clip', got"):
        mk.pgd_step(a, a, a, 0.1, 0.2, norm=2, projection=bad, backend=host_backend)
    with pytest.raises(ValueError, match="projection must be 'exact' or 'ball_then_clip', got"):
        ref.pgd_step(a, a, a, 0.1, 0.2, norm=2, projection=bad)


@pytest.mark.parametrize("norm", [2, 1])
@pytest.mark.parametrize("projection", ["exact", "ball_then_clip"])
def test_attack_drivers_project_as_asked(rng, norm, projection):
    # attacks.pgd and attacks.fgsm step with pgd_step's projection (exact by default)
    from mlsec_kernels import attacks

    w = rng.standard_normal((36, 3))
    x = rng.choice([0.0, 0.05, 0.5, 0.95, 1.0], (5, 36))  # many pixels at or near a bound

    def loss_grad(a, y):  # a linear model's logit of the true class, gradient w.r.t. a
        return (a @ w)[np.arange(len(a)), y], w[:, y].T.copy()

    y = np.zeros(5, np.int64)
    eps, step = (0.6, 0.5) if norm == 2 else (2.0, 1.5)
    kw = {} if projection == "exact" else {"projection": projection}
    got = attacks.pgd(loss_grad, x, y, eps, norm=norm, step=step, n_steps=1, random_start=False, **kw).x_adv
    want = ref.pgd_step(x, x, w[:, y].T, step, eps, norm=norm, projection=projection)
    np.testing.assert_allclose(got, want, **tol(np.float64))
    one = attacks.fgsm(loss_grad, x, y, eps, norm=norm, **kw).x_adv
    np.testing.assert_allclose(
        one, ref.pgd_step(x, x, w[:, y].T, eps, eps, norm=norm, projection=projection), **tol(np.float64)
    )
    with pytest.raises(ValueError, match="projection must be"):
        attacks.pgd(loss_grad, x, y, eps, norm=norm, projection="clip_then_ball")
