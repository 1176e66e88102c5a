"""PRADA extraction monitor and the NumPy Shapiro-Wilk statistic."""

import numpy as np
import pytest

from mlsec_kernels.output import ExtractionMonitor, shapiro_wilk


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 11, 50, 211, 1000, 4999])
def test_shapiro_wilk_matches_scipy(n):
    stats = pytest.importorskip("scipy.stats", reason="SciPy is not installed here")
    rng = np.random.default_rng(n)
    for x in (
        rng.standard_normal(n),
        rng.exponential(size=n),
        rng.uniform(size=n),
        np.r_[rng.standard_normal(n - 1), 40.0],
    ):
        assert abs(shapiro_wilk(x) - stats.shapiro(x).statistic) < 2e-5


def _labels(x, w):
    return np.argmax(x.reshape(len(x), -1) @ w, axis=1)


def test_flags_synthetic_extraction_stream_not_natural_one():
    rng = np.random.default_rng(0)
    d = 3 * 8 * 8
    w = rng.standard_normal((d, 10))
    mon = ExtractionMonitor()
    natural = rng.random((1500, 3, 8, 8)).astype(np.float32)
    for i in range(0, len(natural), 100):
        mon.observe("alice", natural[i : i + 100], _labels(natural[i : i + 100], w))
    assert not mon.is_suspicious("alice") and mon.stats("alice")["w"] > 0.9
    # Jacobian-based augmentation (Papernot et al. 2017): seeds, then x + lambda*sign(grad) rounds.
    seeds = rng.random((30, d)).astype(np.float32)
    batch = seeds
    queries = [seeds]
    for _ in range(5):
        step = 0.1 * np.sign(rng.standard_normal(batch.shape)).astype(np.float32)
        batch = np.clip(np.concatenate([batch, batch + step]), 0, 1)[: 30 * 2**5]
        queries.append(batch)
    q = np.concatenate(queries)[:1500]
    for i in range(0, len(q), 100):
        mon.observe("mallory", q[i : i + 100], _labels(q[i : i + 100], w))
    st = mon.stats("mallory")
    assert mon.is_suspicious("mallory") and st["w"] < 0.9
    assert not mon.is_suspicious("alice") and not mon.is_suspicious("nobody")


def test_batches_equal_one_by_one_and_memory_cap():
    rng = np.random.default_rng(1)
    x = rng.random((300, 16))
    y = rng.integers(0, 4, 300)
    a, b = ExtractionMonitor(max_set_size=40), ExtractionMonitor(max_set_size=40)
    a.observe(0, x, y)
    for i in range(300):
        b.observe(0, x[i : i + 1], y[i : i + 1])
    sa, sb = a.stats(0), b.stats(0)
    assert sa["stored"] == sb["stored"] == 40 and sa["distances"] == sb["distances"] == 296
    np.testing.assert_allclose(
        np.concatenate([list(v) for v in a._clients[0].dists.values()]),
        np.concatenate([list(v) for v in b._clients[0].dists.values()]),
        rtol=1e-9,
    )


def test_bad_input():
    with pytest.raises(ValueError, match="delta must be in"):
        ExtractionMonitor(delta=1.5)
    with pytest.raises(ValueError, match="one label per query"):
        ExtractionMonitor().observe(1, np.zeros((3, 4)), [0, 1])
    with pytest.raises(ValueError, match="at least 3 values"):
        shapiro_wilk([1.0, 2.0])
