"""Attack drivers on NumPy models: budgets, balls, early stopping, reproducibility."""

import numpy as np
import pytest

from mlsec_kernels import attacks as A
from mlsec_kernels.cli import demo
from mlsec_kernels.cli._demo_model import MLP

from .helpers import norms


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    with demo._one_blas_thread():  # tiny matrices: BLAS threads only slow them down
        yield


@pytest.fixture(scope="module")
def digits():
    pytest.importorskip("sklearn", reason="scikit-learn is not installed here")
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    m = MLP(64, 10, 32).fit(x[:1400], d.target[:1400], epochs=20)
    keep = m.predict(x[1400:1560]).argmax(1) == d.target[1400:1560]
    return m, x[1400:1560][keep], d.target[1400:1560][keep]


class Linear:
    """An undefended linear classifier on 6x6 images with well-separated classes."""

    def __init__(self, k=4, d=36, seed=0):
        r = np.random.default_rng(seed)
        self.w = r.normal(size=(d, k))
        self.x = np.clip(0.5 + 0.05 * r.normal(size=(40, 1, 6, 6)), 0, 1).astype(np.float32)
        self.y = self.predict(self.x).argmax(1)

    def predict(self, x):
        return np.asarray(x, np.float64).reshape(len(x), -1) @ self.w


@pytest.mark.parametrize("eps", [0.05, 0.1])
def test_pgd_at_least_fgsm(digits, eps):
    m, x, y = digits
    f = A.fgsm(m.loss_grad, x, y, eps, predict=m.predict)
    p = A.pgd(m.loss_grad, x, y, eps, n_steps=20, restarts=2, seed=0)
    assert p.success.mean() >= f.success.mean()
    assert np.array_equal(p.success, m.predict(p.x_adv).argmax(1) != y)


@pytest.mark.parametrize("norm,eps", [("inf", 0.1), (2, 0.8), (1, 3.0)])
def test_pgd_in_ball_and_clip(digits, norm, eps):
    m, x, y = digits
    r = A.pgd(m.loss_grad, x, y, eps, norm=norm, n_steps=10, seed=3)
    assert r.x_adv.dtype == x.dtype and r.x_adv.shape == x.shape
    assert r.x_adv.min() >= 0.0 and r.x_adv.max() <= 1.0
    assert np.all(norms(np.asarray(r.x_adv, np.float64) - x, norm) <= eps * (1 + 1e-5) + 1e-6)


def test_pgd_early_stop_per_sample(digits):
    m, x, y = digits
    r = A.pgd(m.loss_grad, x, y, 0.2, n_steps=30, seed=0)
    assert r.success.any() and r.queries[r.success].min() < 30
    assert np.all(r.queries[~r.success] == 31)  # 30 steps + the final check
    full = A.pgd(m.loss_grad, x, y, 0.2, n_steps=30, seed=0, early_stop=False)
    assert np.all(full.queries == 31)
    # without any way to tell success, every sample runs every step
    blind = A.pgd(lambda a, b: m.loss_grad(a, b)[:2], x, y, 0.2, n_steps=5, seed=0)
    assert blind.success is None and np.all(blind.queries == 5)


def test_pgd_and_square_reproducible(digits):
    m, x, y = digits
    a = A.pgd(m.loss_grad, x, y, 0.1, seed=7, restarts=2)
    b = A.pgd(m.loss_grad, x, y, 0.1, seed=7, restarts=2)
    assert np.array_equal(a.x_adv, b.x_adv) and np.array_equal(a.queries, b.queries)
    s1 = A.square_attack(m.predict, x[:20], y[:20], 0.1, n_queries=200, seed=5)
    s2 = A.square_attack(m.predict, x[:20], y[:20], 0.1, n_queries=200, seed=5)
    assert np.array_equal(s1.x_adv, s2.x_adv) and np.array_equal(s1.queries, s2.queries)
    s3 = A.square_attack(m.predict, x[:20], y[:20], 0.1, n_queries=200, seed=6)
    assert not np.array_equal(s1.x_adv, s3.x_adv)


@pytest.mark.parametrize("norm,eps", [("inf", 0.25), (2, 1.0)])
@pytest.mark.parametrize("per_sample", [True, False])
def test_square_attack_linear(norm, eps, per_sample):
    lin = Linear()
    r = A.square_attack(lin.predict, lin.x, lin.y, eps, norm=norm, n_queries=500, seed=0, per_sample=per_sample)
    assert r.success.mean() >= 0.9
    assert np.array_equal(r.success, lin.predict(r.x_adv).argmax(1) != lin.y)
    assert r.queries.max() <= 500 and r.queries.min() >= 1
    size = norms(np.asarray(r.x_adv, np.float64) - lin.x, norm)
    assert np.all(size <= eps * (1 + 1e-5)) and r.x_adv.min() >= 0 and r.x_adv.max() <= 1


def test_square_attack_targeted():
    lin = Linear()
    t = (lin.y + 1) % 4
    r = A.square_attack(lin.predict, lin.x, t, 0.3, n_queries=1000, seed=0, targeted=True)
    assert r.success.mean() >= 0.9
    assert np.array_equal(r.success, lin.predict(r.x_adv).argmax(1) == t)


@pytest.mark.parametrize("basis", ["pixel", "dct"])
def test_simba_linear(basis):
    lin = Linear()
    r = A.simba(lin.predict, lin.x, lin.y, 0.2, basis=basis, max_queries=150, seed=0)
    assert r.success.mean() >= 0.9 and r.queries.max() <= 150
    assert np.array_equal(r.success, lin.predict(r.x_adv).argmax(1) != lin.y)
    assert r.x_adv.min() >= 0 and r.x_adv.max() <= 1
    again = A.simba(lin.predict, lin.x, lin.y, 0.2, basis=basis, max_queries=150, seed=0)
    assert np.array_equal(r.x_adv, again.x_adv)


def _cos(a, b):
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.parametrize("est", [A.nes_gradient, A.spsa_gradient])
def test_gradient_estimates_correlate(est):
    r = np.random.default_rng(1)
    c = r.normal(size=(3, 20))
    x = r.normal(size=(3, 20))

    def f(z):  # smooth: a shifted log-sum-exp plus a quadratic, per sample (the batch repeats x's rows)
        cc = c[np.arange(len(z)) % 3]
        return np.log(np.exp(z * cc).sum(1)) + 0.5 * (z**2).sum(1)

    e = np.exp(x * c)
    true = c * e / e.sum(1, keepdims=True) + x
    g = est(f, x, sigma=1e-3, n_samples=2000, seed=0, chunk=100)
    assert g.shape == x.shape and np.all(_cos(g, true) > 0.9)
    # the noise is indexed by pair, not by chunk: same estimate with any chunk size
    assert np.allclose(est(f, x, sigma=1e-3, n_samples=2000, seed=0, chunk=37), g, rtol=1e-9, atol=1e-12)


def test_estimated_gradient_inside_pgd(digits):
    m, x, y = digits
    lg = A.estimated_loss_grad(lambda z, t: m.loss_grad(z, t)[0], n_samples=200, sigma=1e-3, seed=0)
    r = A.pgd(lg, x[:30], y[:30], 0.2, n_steps=5, seed=0, predict=m.predict)
    assert r.success.mean() > 0.5


def test_bad_arguments():
    lin = Linear()
    with pytest.raises(ValueError, match="y"):
        A.square_attack(lin.predict, lin.x, lin.y[:3], 0.1)
    with pytest.raises(ValueError, match="norm"):
        A.square_attack(lin.predict, lin.x, lin.y, 0.1, norm=1)
    with pytest.raises(ValueError, match="basis"):
        A.simba(lin.predict, lin.x, lin.y, 0.1, basis="wavelet")
    with pytest.raises(ValueError, match="n_samples"):
        A.nes_gradient(lambda z: z.sum(1), lin.x.reshape(40, -1), n_samples=3)


def test_pgd_out(digits):
    m, x, y = digits
    out = np.empty_like(x)
    a = A.pgd(m.loss_grad, x, y, 0.1, seed=2, out=out)
    b = A.pgd(m.loss_grad, x, y, 0.1, seed=2)
    assert a.x_adv is out and np.array_equal(out, b.x_adv)
    blind = lambda u, v: m.loss_grad(u, v)[:2]  # noqa: E731 (no early stop: the buffer is the result)
    c = A.pgd(blind, x, y, 0.1, seed=2, out=out)
    assert c.x_adv is out and np.array_equal(out, A.pgd(blind, x, y, 0.1, seed=2).x_adv)
    with pytest.raises(ValueError, match="out"):
        A.pgd(m.loss_grad, x, y, 0.1, out=out[:3])


def test_torch_tensors_pass_through():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed here")
    lin = Linear()
    seen = []

    def predict(q):
        seen.append(type(q))
        return torch.from_numpy(lin.predict(q.numpy()))

    x = torch.from_numpy(lin.x)
    r = A.square_attack(predict, x, torch.from_numpy(lin.y), 0.25, n_queries=300, seed=0)
    ref = A.square_attack(lin.predict, lin.x, lin.y, 0.25, n_queries=300, seed=0)
    assert isinstance(r.x_adv, torch.Tensor) and set(seen) == {torch.Tensor}
    assert np.array_equal(r.x_adv.numpy(), ref.x_adv) and np.array_equal(r.queries, ref.queries)

    def loss_grad(q, t):
        g = torch.from_numpy(
            np.ascontiguousarray(np.broadcast_to(lin.w[:, 0].reshape(1, 1, 6, 6), q.shape)).astype(np.float32)
        )
        return torch.zeros(len(q)), g

    p = A.pgd(loss_grad, x, torch.from_numpy(lin.y), 0.1, seed=0)
    assert isinstance(p.x_adv, torch.Tensor) and float((p.x_adv - x).abs().max()) <= 0.1 + 1e-6
