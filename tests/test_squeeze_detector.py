import math

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import reference as ref


def level_model(x):
    """Probabilities that move with the mean input level: p = (m, 1 - m)."""
    m = np.asarray(x, dtype=np.float64).reshape(len(x), -1).mean(axis=1) / 100.0
    return np.stack([m, 1.0 - m], axis=1)


def to_zero(x):
    return np.zeros_like(x)


def test_threshold_rule_on_known_scores():
    # score_i = |m_i - 0| + |(1 - m_i) - 1| = 2 * i / 100 for the 20 legitimate inputs
    x = np.arange(20, dtype=np.float64).reshape(20, 1)
    det = mk.SqueezeDetector([(to_zero, {})])
    scores = det.score(level_model, x)
    np.testing.assert_allclose(scores, 2 * np.arange(20) / 100)
    for fpr, index in [(0.05, 18), (0.1, 17), (0.0, 19), (0.5, 9), (0.99, 0)]:
        det.fit(level_model, x, fpr=fpr)
        assert index == math.ceil(20 * (1 - fpr)) - 1
        assert det.threshold == pytest.approx(scores[index])
        assert det.threshold == ref.squeeze_threshold(scores, fpr)
        flagged = det.detect(level_model, x)
        assert flagged.dtype == bool and flagged.sum() == 19 - index  # strictly above the threshold
        assert flagged.mean() <= fpr + 1e-12


def test_squeeze_score_matches_reference(rng):
    p = rng.dirichlet(np.ones(10), size=7)
    q1, q2 = rng.dirichlet(np.ones(10), size=7), rng.dirichlet(np.ones(10), size=7)
    np.testing.assert_allclose(mk.squeeze_score(p, q1, q2), ref.squeeze_score(p, q1, q2))
    np.testing.assert_allclose(mk.squeeze_score(p, p), 0.0)


def test_named_squeezers_on_images(rng):
    x = rng.random((6, 3, 12, 12)).astype(np.float32)
    w = rng.standard_normal((3 * 12 * 12, 5))

    def model(batch):
        z = np.asarray(batch, dtype=np.float64).reshape(len(batch), -1) @ w
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    det = mk.SqueezeDetector([("bit_depth", {"bits": 5}), ("median_filter", {"size": 2})])
    want = ref.squeeze_score(model(x), model(mk.bit_depth(x, 5)), model(mk.median_filter(x, 2)))
    np.testing.assert_allclose(det.score(model, x), want)
    det.fit(model, x, fpr=0.2)
    assert det.detect(model, x).sum() <= 1
    preset = mk.SqueezeDetector([("non_local_means", {"h": 0.1, "search_size": 5})], threshold=0.0)
    assert preset.detect(model, x).shape == (6,)


@pytest.mark.parametrize(
    "make, err, match",
    [
        (lambda: mk.SqueezeDetector([("blur", {})]), ValueError, "unknown squeezer 'blur'"),
        (lambda: mk.SqueezeDetector([]), ValueError, "at least one squeezer"),
        (lambda: mk.SqueezeDetector(["bit_depth"]), TypeError, r"\(name, parameters\) pair"),
        (lambda: mk.SqueezeDetector([(to_zero, {})]).detect(level_model, np.ones((2, 1))), RuntimeError, "call fit"),
        (
            lambda: mk.SqueezeDetector([(to_zero, {})]).fit(level_model, np.ones((2, 1)), fpr=1.0),
            ValueError,
            "fpr must be in",
        ),
        (lambda: mk.squeeze_score(np.ones((2, 3)), np.ones((2, 4))), ValueError, "squeezed\\[0\\] must have the shape"),
        (lambda: mk.squeeze_score(np.ones((2, 3))), ValueError, "at least one"),
    ],
)
def test_bad_input(make, err, match):
    with pytest.raises(err, match=match):
        make()
