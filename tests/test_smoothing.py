import math

import numpy as np
import pytest
from scipy import stats

from mlsec_kernels import _stats, smoothing
from mlsec_kernels.rng import Generator

from .helpers import dev, peer


def test_stats_against_scipy():
    for a, b, x in [(1, 1, 0.3), (5, 3, 0.2), (0.5, 0.5, 0.99), (99000, 1001, 0.989), (40, 60, 0.5)]:
        assert _stats.betainc(a, b, x) == pytest.approx(stats.beta.cdf(x, a, b), rel=1e-9, abs=1e-300)
    for k, n in [(1, 100), (50, 100), (999, 1000), (10, 10), (99000, 100000), (100000, 100000), (3, 100000)]:
        for alpha in (0.001, 0.05):
            assert _stats.clopper_pearson_lower(k, n, alpha) == pytest.approx(
                stats.beta.ppf(alpha, k, n - k + 1), rel=1e-12
            )
    assert _stats.clopper_pearson_lower(0, 100, 0.001) == 0.0
    for p in (1e-300, 1e-10, 0.001, 0.3, 0.5, 0.9, 0.999999, 1 - 1e-12):
        assert _stats.norm_ppf(p) == pytest.approx(stats.norm.ppf(p), rel=1e-13, abs=1e-15)
    assert _stats.norm_ppf(0.0) == -math.inf and _stats.norm_ppf(1.0) == math.inf
    for k, n in [(60, 100), (5, 5), (50, 100), (0, 7), (900, 1000), (1, 1), (520, 1000)]:
        assert _stats.binom_test_half(k, n) == pytest.approx(stats.binomtest(k, n, 0.5).pvalue, rel=1e-9)


def _linear(w, b, xp=np):
    """Two classes: class 1 where w.x + b > 0 (logits (-s/2, s/2))."""

    def model(batch):
        s = batch.reshape(batch.shape[0], -1) @ w + b
        return xp.stack([-s / 2, s / 2], axis=1)

    return model


def test_certify_linear_analytic_radius(backend):
    # under N(0, sigma^2 I), P(class 1) = Phi(m / (sigma ||w||)), m = w.x + b: the smoothed
    # classifier's exact radius is the distance to the hyperplane, |m| / ||w||
    xp = (
        np
        if backend != "cuda"
        else pytest.importorskip("cupy", reason="CUDA tests need CuPy to hold device arrays, and it is not installed")
    )
    rng = np.random.default_rng(0)
    d, sigma, n = 20, 0.5, 100000
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    margins = np.array([0.2, -0.4, 0.8, -1.2, 1.5])
    ortho = rng.standard_normal((5, d))
    ortho -= np.outer(ortho @ w, w)
    x = margins[:, None] * w + ortho  # distance |m| to the hyperplane w.x = 0
    b = np.array(0.0)
    labels, radii = smoothing.certify(
        _linear(dev(w, backend), dev(b, backend), xp),
        dev(x, backend),
        sigma,
        100,
        n,
        alpha=0.001,
        seed=1,
        backend=backend,
    )
    for m, lab, r in zip(margins, labels, radii):
        p = stats.norm.cdf(abs(m) / sigma)
        assert lab == int(m > 0)
        sd = np.sqrt(p * (1 - p) / n)
        assert sigma * stats.norm.ppf(p - 9 * sd) <= r <= abs(m) + 1e-12  # the bound is below the truth


def test_certify_abstains_and_matches_backends(host_backend):
    w = np.array([1.0, 0.0])
    x = np.array([[0.0, 0.3], [2.0, 0.0], [-1.5, 1.0]])
    model = _linear(w, 0.0)
    labels, radii = smoothing.certify(model, x, 1.0, 50, 2000, seed=3, backend=host_backend)
    assert labels[0] == smoothing.ABSTAIN and radii[0] == 0.0
    assert labels[1] == 1 and labels[2] == 0 and radii[1] > 0 and radii[2] > 0
    want = smoothing.certify(model, x, 1.0, 50, 2000, seed=3, backend=peer(host_backend))
    np.testing.assert_array_equal(labels, want[0])
    np.testing.assert_array_equal(radii, want[1])
    # batch size does not change the draws
    again = smoothing.certify(model, x, 1.0, 50, 2000, seed=3, batch_size=333, backend=host_backend)
    np.testing.assert_array_equal(again[1], radii)


def test_predict_and_labels_model():
    x = np.array([[0.0, 0.0], [3.0, 0.0], [-3.0, 0.0]], np.float32)
    got = smoothing.predict(_linear(np.array([1.0, 0.0], np.float32), np.float32(0)), x, 0.5, 1000, seed=2)
    assert got.tolist() == [smoothing.ABSTAIN, 1, 0]

    def labels_model(batch):
        return (batch[:, 0] > 0).astype(np.int64)

    assert smoothing.predict(labels_model, x, 0.5, 1000, seed=2, num_classes=2).tolist() == got.tolist()
    with pytest.raises(ValueError, match="pass num_classes"):
        smoothing.predict(labels_model, x, 0.5, 10, seed=2)
    with pytest.raises(ValueError, match="outside"):
        smoothing.predict(lambda b: np.full(len(b), 5), x, 0.5, 10, seed=2, num_classes=2)


def test_seed_generator_and_progress(capsys):
    x = np.zeros((2, 3), np.float32)
    model = _linear(np.array([1.0, 0, 0], np.float32), np.float32(0.2))
    a = smoothing.certify(model, x, 0.3, 10, 500, seed=Generator(4))
    b = smoothing.certify(model, x, 0.3, 10, 500, seed=4)
    np.testing.assert_array_equal(a[1], b[1])
    g = Generator(4)
    smoothing.predict(model, x, 0.3, 100, seed=g)
    assert g.next_substream() == 2  # one substream per input
    smoothing.predict(model, x, 0.3, 100, seed=g, progress=True)
    assert "2/2" in capsys.readouterr().err


def test_torch_model():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
    x = torch.tensor([[2.0, 0.0], [-2.0, 0.0]])
    lin = torch.nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight[:] = torch.tensor([[-1.0, 0.0], [1.0, 0.0]])
        lin.bias[:] = 0
    labels, radii = smoothing.certify(lin, x, 0.5, 50, 2000, seed=1)
    assert labels.tolist() == [1, 0] and np.all(radii > 0)


def test_class_counts_kernel(host_backend):
    from mlsec_kernels import _backend as be

    k = be.kernel(host_backend, "class_counts")
    counts = np.zeros(4, np.int64)
    k(np.array([[0.1, 0.5, 0.5], [np.nan, 1.0, 2.0], [3.0, 1.0, 2.0]], np.float32), 3, counts)
    assert counts.tolist() == [2, 1, 0, 0]  # first maximum; NaN counts as the maximum
    k(np.array([2, 2, -1, 7], np.int32), 3, counts)
    assert counts.tolist() == [2, 1, 2, 2]


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(sigma=-0.1), ValueError, "sigma must be finite and >= 0"),
        (dict(sigma=float("nan")), ValueError, "sigma must be finite"),
        (dict(n0=0), ValueError, "n0 must be >= 1"),
        (dict(n=0), ValueError, "n must be >= 1"),
        (dict(n=10.5), TypeError, "n must be an int"),
        (dict(alpha=0.0), ValueError, r"alpha must be in \(0, 1\)"),
        (dict(alpha=1.0), ValueError, r"alpha must be in \(0, 1\)"),
        (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
    ],
)
def test_bad_input(kwargs, err, match):
    args = dict(sigma=0.5, n0=10, n=100, alpha=0.001)
    args.update(kwargs)
    model = _linear(np.ones(2), 0.0)
    with pytest.raises(err, match=match):
        smoothing.certify(model, np.zeros((1, 2)), **args)
    if "n0" not in kwargs:
        args.pop("n0")
        with pytest.raises(err, match=match):
            smoothing.predict(model, np.zeros((1, 2)), **args)


def test_sample_start_splits_a_batch():
    # inputs a.. of a piece draw the substreams of their global positions (2i, 2i+1; predict: i)
    r = np.random.default_rng(5)
    x = r.standard_normal((7, 3)).astype(np.float32) * 0.4
    model = _linear(np.array([1.0, -0.5, 0.2], np.float32), np.float32(0.1))
    whole = smoothing.certify(model, x, 0.5, 20, 300, seed=9)
    pred = smoothing.predict(model, x, 0.5, 300, seed=9)
    assert (whole[0] >= 0).any() and (whole[0] == smoothing.ABSTAIN).any()
    for a, b in [(0, 2), (2, 3), (3, 7)]:
        part = smoothing.certify(model, x[a:b], 0.5, 20, 300, seed=9, sample_start=a)
        np.testing.assert_array_equal(part[0], whole[0][a:b])
        np.testing.assert_array_equal(part[1], whole[1][a:b])
        np.testing.assert_array_equal(smoothing.predict(model, x[a:b], 0.5, 300, seed=9, sample_start=a), pred[a:b])
    # a Generator positioned at the piece's first substream is the same thing
    g = Generator(9, substream=2 * 3)
    np.testing.assert_array_equal(smoothing.certify(model, x[3:], 0.5, 20, 300, seed=g)[1], whole[1][3:])
    with pytest.raises(ValueError, match="sample_start needs an int seed"):
        smoothing.certify(model, x, 0.5, 20, 300, seed=Generator(9), sample_start=1)
    with pytest.raises(ValueError, match="sample_start must be >= 0"):
        smoothing.predict(model, x, 0.5, 30, seed=9, sample_start=-1)
    with pytest.raises(TypeError, match="sample_start must be an int"):
        smoothing.predict(model, x, 0.5, 30, seed=9, sample_start=1.0)
