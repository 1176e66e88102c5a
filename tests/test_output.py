"""Output post-processors: every backend against the reference and against ART's formulas."""

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import output as O
from mlsec_kernels import reference as ref

from .helpers import dev, host, skip_unless

SHAPES = [
    (9, 1),  # a binary model's P(positive)
    (1, 2),
    (3, 7),
    (5, 1000),
    (2, 1500),
    (70, 1000),
]  # 1500 > one 1024 chunk; the last crosses the threading threshold


def probs(rng, shape, dtype):
    if shape[1] == 1:  # P(positive), with the clip bounds and the threshold among them
        p = rng.random(shape)
        p[: min(4, shape[0]), 0] = [0.0, 1.0, 0.5, 1e-12][: min(4, shape[0])]
        return p.astype(dtype)
    return rng.dirichlet(np.full(shape[1], 0.3), size=shape[0]).astype(dtype)


def rs_tol(dtype):
    return dict(rtol=0, atol=2e-6) if np.dtype(dtype) == np.float32 else dict(rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("beta, gamma", [(1.0, 0.1), (0.8, 0.2), (2.5, 3.0)])
def test_reverse_sigmoid(backend, rng, dtype, shape, beta, gamma):
    p = probs(rng, shape, dtype)
    p[0, 0] = 1.0 if shape[1] == 2 else p[0, 0]  # the float32 clip bound 1 - 1e-9 rounds to 1
    got = host(O.reverse_sigmoid(dev(p, backend), beta=beta, gamma=gamma, backend=backend))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, ref.output.reverse_sigmoid(p, beta=beta, gamma=gamma), **rs_tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reverse_sigmoid_nan_rows(backend, rng, dtype):
    """A NaN probability makes its row NaN, as in the reference, and leaves the other rows
    alone. In float32 the NaN reaches exp_f32, which must not convert it to an int
    (undefined behaviour that benchmarks/sanitize.sh catches)."""
    p = probs(rng, (4, 37), dtype)
    p[1, 5] = np.nan
    p[3] = np.nan
    got = host(O.reverse_sigmoid(dev(p, backend), backend=backend))
    want = ref.output.reverse_sigmoid(p)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, **rs_tol(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES)
def test_deterministic_ops_exact(backend, rng, dtype, shape):
    p = probs(rng, shape, dtype)
    p[-1, : min(3, shape[1])] = p[-1, 0]  # ties
    c = shape[1]
    x = dev(p, backend)
    cases = [
        (O.round(x, decimals=3, backend=backend), ref.output.round(p, decimals=3)),
        (O.round(x, decimals=0, backend=backend), ref.output.round(p, decimals=0)),
        (O.high_confidence(x, cutoff=0.1, backend=backend), ref.output.high_confidence(p, cutoff=0.1)),
        (O.class_labels(x, backend=backend), ref.output.class_labels(p)),
        (O.top_k(x, 1, backend=backend), ref.output.top_k(p, 1)),
        (O.top_k(x, min(5, c), one_hot=True, backend=backend), ref.output.top_k(p, min(5, c), one_hot=True)),
        (O.top_k(x, min(40, c), backend=backend), ref.output.top_k(p, min(40, c))),  # k > 32: the bisection path
        (O.top_k(x, c, backend=backend), ref.output.top_k(p, c)),
    ]
    for got, want in cases:
        got = host(got)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want.astype(dtype))


def test_round_is_numpy_round_bit_for_bit(host_backend, rng):
    """Halves and near-halves: np.round's multiply-rint-divide in the data's dtype."""
    for dtype in (np.float32, np.float64):
        for d in (0, 1, 2, 3, 6, 9, 12):
            k = rng.integers(0, 10 ** min(d, 6), size=(8, 64))
            p = ((k + 0.5) / 10**d).astype(dtype)
            p[4:] = rng.random((4, 64)).astype(dtype)
            np.testing.assert_array_equal(O.round(p, decimals=d, backend=host_backend), np.round(p, d))


def test_ties_nan_and_signed_zero(host_backend):
    p = np.array([[0.2, 0.4, 0.4, 0.0], [-0.0, 0.0, -1.0, -2.0], [0.1, np.nan, 0.5, np.nan]], np.float32)
    lab = O.class_labels(p, backend=host_backend)
    np.testing.assert_array_equal(np.argmax(lab, axis=1), np.argmax(p, axis=1))  # first max, first NaN
    np.testing.assert_array_equal(
        O.top_k(p, 2, one_hot=True, backend=host_backend), ref.output.top_k(p, 2, one_hot=True)
    )


class _OnBackend:
    """The output module with its arguments moved to the backend's arrays and results back."""

    def __init__(self, backend):
        self.b = backend

    def __getattr__(self, name):
        f = getattr(O, name)
        return lambda p, *a, **k: host(f(dev(p, self.b), *a, **k))


def art_reverse_sigmoid(preds, beta, gamma):
    """ART's ReverseSigmoid.__call__ for C > 1, in the dtype of preds (NumPy 2 rules)."""
    clip_min = 1e-9
    clip_max = 1.0 - clip_min
    pc = np.clip(preds, clip_min, clip_max)
    with np.errstate(divide="ignore"):
        z = -gamma * np.log((1.0 - pc) / pc)
    r = beta * (1.0 / (1.0 + np.exp(-z)) - 0.5)
    q = np.clip(preds - r, 0.0, 1.0)
    return (1.0 / np.sum(q, axis=-1, keepdims=True)) * q


def art_gaussian_noise(preds, noise):
    post = preds.copy() + noise
    if all(np.isclose(np.sum(r), 1.0, rtol=1e-3) and r.max() <= 1 and r.min() >= 0 for r in preds):
        post[post < 0.0] = 0.0
        post /= np.sum(post, axis=1, keepdims=True)
    return post


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_against_art_formulas(backend, rng, dtype):
    p = probs(rng, (16, 10), dtype)
    host_backend = backend
    O = _OnBackend(backend)
    tol = dict(rtol=0, atol=3e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        O.reverse_sigmoid(p, beta=0.8, gamma=0.3, backend=host_backend), art_reverse_sigmoid(p, 0.8, 0.3), **tol
    )
    hc = p.copy()
    hc[hc < dtype(0.1)] = 0.0
    np.testing.assert_array_equal(O.high_confidence(p, cutoff=0.1, backend=host_backend), hc)
    np.testing.assert_array_equal(O.round(p, decimals=2, backend=host_backend), np.around(p, decimals=2))
    for i in range(4):  # ART's ClassLabels is right one row at a time
        row = p[i : i + 1]
        art = np.zeros_like(row)
        art[:, np.argmax(row, axis=1)] = 1
        np.testing.assert_array_equal(O.class_labels(row, backend=host_backend), art)
    z = mk.rng.normal(p.shape, seed=11, dtype=np.float32).astype(dtype)
    noise = (dtype(0.05) * z).astype(dtype)
    np.testing.assert_allclose(
        O.gaussian_noise(p, scale=0.05, seed=11, backend=host_backend), art_gaussian_noise(p, noise), **tol
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 7), (5, 1000), (2, 2051), (70, 1000)])
def test_gaussian_noise(backend, rng, dtype, shape):
    p = probs(rng, shape, dtype)
    logits = rng.standard_normal(shape).astype(dtype)
    z = mk.rng.normal(shape, seed=5, dtype=np.float32).astype(dtype)
    # Logits: exactly p + T(scale) * T(z), the stream's float32 normals.
    got = host(O.gaussian_noise(dev(logits, backend), scale=0.3, seed=5, backend=backend))
    np.testing.assert_array_equal(got, logits + dtype(0.3) * z)
    got = host(O.gaussian_noise(dev(p, backend), scale=0.01, seed=5, backend=backend))
    want = ref.output.gaussian_noise(p, dtype(0.01) * z)
    np.testing.assert_allclose(
        got, want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-7 if dtype == np.float32 else 1e-15
    )
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
    forced = host(O.gaussian_noise(dev(logits, backend), scale=0.3, seed=5, renormalize=True, backend=backend))
    assert np.all(forced >= 0)


BINARY = [[0.5301345], [0.0], [1.0], [0.5], [1e-12], [0.999999], [0.3], [0.7], [1.5], [-0.2]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_is_art(backend, dtype):
    """One column, P(positive): ART's own post-processors give the same numbers."""
    art = pytest.importorskip("art.defences.postprocessor", reason="ART is not installed (pip install '.[art]')")
    p = np.array(BINARY, dtype)
    O = _OnBackend(backend)
    with np.errstate(divide="ignore", invalid="ignore"):  # ART's log(0) at the clip bounds
        for beta, gamma in [(1.0, 0.1), (0.75, 0.1), (1.0, 0.5), (5.0, 2.0), (0.1, 10.0)]:
            want = art.ReverseSigmoid(beta=beta, gamma=gamma)(p)
            got = O.reverse_sigmoid(p, beta=beta, gamma=gamma, backend=backend)
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, **rs_tol(dtype))
    labels = art.ClassLabels()(p)
    np.testing.assert_array_equal(labels.ravel(), [1, 0, 1, 0, 0, 1, 0, 1, 1, 0])  # p == 1/2 gives 0
    np.testing.assert_array_equal(O.class_labels(p, backend=backend), labels)
    np.testing.assert_array_equal(O.top_k(p, 1, one_hot=True, backend=backend), labels)
    np.testing.assert_array_equal(O.top_k(p, 1, backend=backend), p)  # the column is kept
    np.testing.assert_array_equal(O.high_confidence(p, cutoff=0.5, backend=backend), art.HighConfidence(0.5)(p))
    np.testing.assert_array_equal(O.round(p, decimals=2, backend=backend), art.Rounded(2)(p))


def test_binary_reverse_sigmoid_is_the_two_class_row(host_backend, rng):
    """ART's binary form is the two-class computation on [1 - p, p] (inside the clip bounds)."""
    p = rng.uniform(0.01, 0.99, size=(50, 1))
    two = np.concatenate([1.0 - p, p], axis=1)
    np.testing.assert_allclose(
        O.reverse_sigmoid(p, beta=0.8, gamma=0.3, backend=host_backend)[:, 0],
        O.reverse_sigmoid(two, beta=0.8, gamma=0.3, backend=host_backend)[:, 1],
        rtol=1e-13,
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_noise_clips_to_probability(backend, rng, dtype):
    """One column: a probability gets noise and is clipped to [0, 1] (nothing to renormalise);
    a logit (outside [0, 1]) gets the noise alone under "auto"."""
    p = probs(rng, (3000, 1), dtype)
    z = mk.rng.normal(p.shape, seed=5, dtype=np.float32).astype(dtype)
    noisy = p + dtype(0.3) * z
    got = host(O.gaussian_noise(dev(p, backend), scale=0.3, seed=5, backend=backend))
    np.testing.assert_array_equal(got, np.clip(noisy, 0, 1))
    assert (got == 0).any() and (got == 1).any() and (noisy > 1).any()  # both bounds were reached
    want = ref.output.gaussian_noise(p, dtype(0.3) * z)  # float64 sums: float32 rounds p + noise once more
    np.testing.assert_allclose(got, want, rtol=0, atol=6e-8 if dtype == np.float32 else 0)
    logit = (p - dtype(0.5)) * dtype(8)
    logit[(logit >= 0) & (logit <= 1)] += dtype(2)
    logit[0] = dtype(0.5)  # a logit inside [0, 1] counts as a probability, as for any row
    got = host(O.gaussian_noise(dev(logit, backend), scale=0.3, seed=5, backend=backend))
    raw = logit + dtype(0.3) * z
    np.testing.assert_array_equal(got[1:], raw[1:])
    np.testing.assert_array_equal(got[0], np.clip(raw[0], 0, 1))
    for mode, want in [(True, np.clip(raw, 0, 1)), (False, raw)]:
        got = host(O.gaussian_noise(dev(logit, backend), scale=0.3, seed=5, renormalize=mode, backend=backend))
        np.testing.assert_array_equal(got, want)


def test_noise_zero_sum_row_stays_noiseless_and_never_nan(backend):
    p = np.array([[-10.0, -10.0, -10.0], [0.3, 0.3, 0.4]], np.float32)
    got = host(O.gaussian_noise(dev(p, backend), scale=0.1, seed=1, renormalize=True, backend=backend))
    np.testing.assert_array_equal(got[0], p[0])
    assert np.all(np.isfinite(got))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_noise_renormalised_rows_with_nan_or_inf_are_the_reference(backend, dtype):
    # NaN is kept (the row's sum is NaN, so the whole row is, as in ART and the reference);
    # inf makes its entry inf / inf = NaN and the others 0. Long rows take the chunked path.
    for c in (5, 1500):
        p = np.full((3, c), 1 / c, dtype)
        p[0, 1], p[1, c - 1] = np.nan, np.inf
        z = mk.rng.normal(p.shape, seed=2, dtype=np.float32).astype(dtype)
        got = host(O.gaussian_noise(dev(p, backend), scale=0.01, seed=2, renormalize=True, backend=backend))
        with np.errstate(invalid="ignore"):
            want = ref.output.gaussian_noise(p, dtype(0.01) * z, renormalize=True)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        assert np.isnan(got[0]).all() and np.isnan(got[1, c - 1]) and (got[1, : c - 1] == 0).all()
        np.testing.assert_allclose(got[2], want[2], rtol=1e-5 if dtype == np.float32 else 1e-12)


def test_rows_of_denormals_are_renormalised_in_double(backend):
    # float32 rows whose sum is a denormal: 1/sum is beyond float32, so a float32 scale made
    # them inf; the scale stays in double and each entry is rounded once
    p = np.array([[1e-39, 3e-40, 0.0], [2e-38, 1e-41, 5e-45]], np.float32)
    got = host(O.reverse_sigmoid(dev(p, backend), beta=2.5, gamma=1e-30, backend=backend))
    np.testing.assert_allclose(got, ref.output.reverse_sigmoid(p, beta=2.5, gamma=1e-30), rtol=2e-7, atol=0)
    z = mk.rng.normal(p.shape, seed=3, dtype=np.float32)
    got = host(O.gaussian_noise(dev(p, backend), scale=1e-40, seed=3, renormalize=True, backend=backend))
    want = ref.output.gaussian_noise(p, np.float32(1e-40) * z, renormalize=True)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


def test_noise_statistics():
    stats = pytest.importorskip("scipy.stats", reason="SciPy is not installed here")
    x = np.zeros((1000, 1000), np.float32)
    y = O.gaussian_noise(x, scale=0.2, seed=123, renormalize=False)
    assert abs(float(y.mean())) < 2e-3 and abs(float(y.std()) - 0.2) < 2e-3
    assert stats.kstest(y.reshape(-1)[:200000] / 0.2, "norm").pvalue > 1e-3


def test_noise_seeds():
    p = np.full((2, 50), 0.02, np.float32)
    assert not np.array_equal(O.gaussian_noise(p), O.gaussian_noise(p))  # seed=None: fresh each call
    np.testing.assert_array_equal(O.gaussian_noise(p, seed=9), O.gaussian_noise(p, seed=9))
    g = mk.Generator(9)
    a, b = O.gaussian_noise(p, seed=g), O.gaussian_noise(p, seed=g)
    np.testing.assert_array_equal(a, O.gaussian_noise(p, seed=9))
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("shape", [(9, 333), (7001, 10)])  # the CPU's blocks: 3 rows; 102 rows, threads
def test_cross_backend_bits(backend, rng, shape):
    """The bits of the C++ backend on every backend (float32 everywhere; float64 too, but
    for reverse_sigmoid on CUDA, whose double exp/log agree to a tolerance only)."""
    skip_unless("cpp")
    for dtype in (np.float32, np.float64):
        p = probs(rng, shape, dtype)
        ops = [
            lambda x, b: O.gaussian_noise(x, scale=0.05, seed=3, backend=b),
            lambda x, b: O.round(x, decimals=4, backend=b),
            lambda x, b: O.top_k(x, 7, backend=b),
            lambda x, b: O.class_labels(x, backend=b),
            lambda x, b: O.reverse_sigmoid(x, backend=b),
        ]
        for i, op in enumerate(ops):
            got, want = host(op(dev(p, backend), backend)), op(p, "cpp")
            if backend == "cuda" and dtype == np.float64 and i == 4:
                np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-16)
            else:
                np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("shape", [(9, 333), (3, 1500), (70, 1000)])  # one chunk, several, and threads
def test_elementwise_programs_cross_backend_bits(backend, rng, shape):
    """Programs of elementwise steps run over the flat array on the CPU: the row path's bits."""
    skip_unless("cpp")
    for dtype in (np.float32, np.float64):
        p = probs(rng, shape, dtype)

        def guard(x, b):
            return O.Guard([O.GaussianNoise(0.05, seed=4, renormalize=False), O.HighConfidence(0.01), O.Round(3)])(
                x, backend=b
            )

        ops = [
            lambda x, b: O.gaussian_noise(x, scale=0.2, seed=3, renormalize=False, backend=b),
            lambda x, b: O.high_confidence(x, cutoff=0.01, backend=b),
            lambda x, b: O.round(x, decimals=2, backend=b),
            guard,
        ]
        for op in ops:
            np.testing.assert_array_equal(host(op(dev(p, backend), backend)), op(p, "cpp"))


@pytest.mark.parametrize("n", [5, 3000, 70001])  # one chunk, several, and threads (>= 2^16 rows)
def test_binary_cross_backend_bits(backend, rng, n):
    """One column runs as a span of rows on the CPU (each step a vector loop) and row by
    row on CUDA and Numba: the same bits, every step and a fused Guard."""
    skip_unless("cpp")
    for dtype in (np.float32, np.float64):
        p = probs(rng, (n, 1), dtype)
        p[-3:] = np.array([[1.5], [-0.25], [np.nan]], dtype)[-min(3, n) :]

        def guard(x, backend):  # a fresh Guard per call: a seeded noise step moves on per call
            return O.Guard([O.ReverseSigmoid(), O.GaussianNoise(0.1, seed=2), O.Round(2), O.TopK(1)])(
                x, backend=backend
            )

        ops = [
            lambda x, b: O.gaussian_noise(x, scale=0.2, seed=3, backend=b),
            lambda x, b: O.gaussian_noise(x, scale=0.2, seed=3, renormalize=False, backend=b),
            lambda x, b: O.round(x, decimals=3, backend=b),
            lambda x, b: O.high_confidence(x, cutoff=0.4, backend=b),
            lambda x, b: O.top_k(x, 1, one_hot=True, backend=b),
            lambda x, b: O.class_labels(x, backend=b),
            lambda x, b: O.reverse_sigmoid(x, beta=0.7, gamma=0.4, backend=b),
            lambda x, b: guard(x, backend=b),
        ]
        for i, op in enumerate(ops):
            got, want = host(op(dev(p, backend), backend)), op(p, "cpp")
            if backend == "cuda" and dtype == np.float64 and i >= 6:
                np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-16)
            else:
                np.testing.assert_array_equal(got, want)


def test_out_in_place_and_layouts(host_backend, rng):
    p = probs(rng, (6, 12), np.float32)
    want = ref.output.top_k(p, 3)
    q = p.copy()
    assert O.top_k(q, 3, out=q, backend=host_backend) is q
    np.testing.assert_array_equal(q, want)
    wide = np.zeros((6, 24), np.float32)
    wide[:, ::2] = p
    out = np.zeros((12, 12), np.float32)[::2]
    assert O.top_k(wide[:, ::2], 3, out=out, backend=host_backend) is out
    np.testing.assert_array_equal(out, want)
    assert O.round(np.zeros((0, 4), np.float32), backend=host_backend).shape == (0, 4)
    no_classes = np.zeros((3, 0), np.float32)  # nothing to label or perturb, and nothing written
    assert O.Guard([O.ClassLabels(), O.ReverseSigmoid()])(no_classes, backend=host_backend).shape == (3, 0)


@pytest.mark.parametrize(
    "call, err, match",
    [
        (lambda p, b: O.round(p[0], backend=b), ValueError, r"p must be 2-D \(N, C\)"),
        (lambda p, b: O.top_k(p[:, :1], 2, backend=b), ValueError, r"k must be in \[1, C\] = \[1, 1\]"),
        (lambda p, b: O.top_k(p, 0, backend=b), ValueError, r"k must be in \[1, C\]"),
        (lambda p, b: O.top_k(p, 5, backend=b), ValueError, r"k must be in \[1, C\]"),
        (lambda p, b: O.top_k(p, 1.5, backend=b), TypeError, "k must be an int"),
        (lambda p, b: O.round(p, decimals=-1, backend=b), ValueError, "decimals must be >= 0"),
        (lambda p, b: O.gaussian_noise(p, scale=-0.1, backend=b), ValueError, "scale must be finite and >= 0"),
        (lambda p, b: O.gaussian_noise(p, renormalize="yes", backend=b), ValueError, "renormalize must be"),
        (lambda p, b: O.gaussian_noise(p, seed=-1, backend=b), ValueError, "seed must be in"),
        (lambda p, b: O.high_confidence(p, cutoff=-1, backend=b), ValueError, "cutoff must be finite and >= 0"),
        (lambda p, b: O.reverse_sigmoid(p, beta=0.0, backend=b), ValueError, "beta must be finite and > 0"),
        (lambda p, b: O.reverse_sigmoid(p, gamma=float("nan"), backend=b), ValueError, "gamma must be finite and > 0"),
        (lambda p, b: O.reverse_sigmoid(p, beta="1", backend=b), TypeError, "beta must be a number"),
        (lambda p, b: O.round(p.astype(np.int32), backend=b), TypeError, "p must be float32 or float64"),
        (lambda p, b: O.round(p, out=np.zeros((3, 4), np.float64), backend=b), TypeError, "out must have.*dtype"),
        (lambda p, b: O.round(p, out=np.zeros((4, 4), np.float32), backend=b), ValueError, "out must have.*shape"),
        (
            lambda p, b: O.round(p, backend="cuda" if b != "auto" else "gpu"),
            ValueError,
            "needs device arrays|backend must be",
        ),
    ],
)
def test_bad_input(host_backend, call, err, match):
    p = np.full((3, 4), 0.25, np.float32)
    with pytest.raises(err, match=match):
        call(p, host_backend)
