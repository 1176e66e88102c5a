"""DAWN watermark: the hash equals hashlib's, the selection rate is right, verify separates copies."""

import hashlib
import hmac

import numpy as np
import pytest

from mlsec_kernels.output import Watermark


@pytest.mark.parametrize("key", [b"k", b"x" * 64, b"long key " * 20, "unicode key \u00e9"])
@pytest.mark.parametrize(
    "shape, dtype",
    [((5, 3, 4, 4), np.float32), ((7, 13), np.float64), ((3, 0), np.float32), ((4, 61), np.uint8), ((3, 5), ">f4")],
)
def test_digests_equal_hmac(key, shape, dtype):
    x = (np.random.default_rng(1).random(shape) * 200).astype(dtype)
    k = key.encode() if isinstance(key, str) else key
    want = np.array([np.frombuffer(hmac.new(k, r.tobytes(), hashlib.sha256).digest(), np.uint8) for r in x])
    np.testing.assert_array_equal(Watermark(key).digests(x), want.reshape(shape[0], 32))


def test_selection_rate_within_binomial_bounds():
    n, rate = 40000, 0.02
    x = np.random.default_rng(2).random((n, 8)).astype(np.float32)
    p = np.full((n, 10), 0.1, np.float32)
    p[:, 3] = 0.2
    out, mask = Watermark(b"key", rate=rate).apply(x, p)
    sd = np.sqrt(n * rate * (1 - rate))
    assert abs(mask.sum() - n * rate) < 5 * sd
    assert np.all(np.argmax(out[mask], axis=1) != 3)  # a wrong label, always
    np.testing.assert_array_equal(out[~mask], p[~mask])
    np.testing.assert_allclose(out.sum(axis=1), p.sum(axis=1), rtol=1e-6)  # scores swapped, not invented
    out2, mask2 = Watermark(b"key", rate=rate).apply(x, p)
    np.testing.assert_array_equal(out, out2)  # deterministic
    assert not np.array_equal(mask, Watermark(b"other", rate=rate).apply(x, p)[1])


def _one_nn(train_x, train_y):
    def predict(q):
        d = (q**2).sum(1)[:, None] + (train_x**2).sum(1)[None, :] - 2 * q @ train_x.T
        return train_y[np.argmin(d, axis=1)]

    return predict


def test_verify_separates_a_stolen_copy_from_an_independent_model():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((20, 10))
    victim = lambda x: np.exp(x @ w) / np.exp(x @ w).sum(1, keepdims=True)  # noqa: E731
    x = rng.standard_normal((6000, 20)).astype(np.float32)
    wm = Watermark(b"owner secret", rate=0.02)
    answers, mask = wm.apply(x, victim(x))
    stolen = _one_nn(x, np.argmax(answers, axis=1))  # a copy trained on what the API returned
    own_x = rng.standard_normal((6000, 20)).astype(np.float32)
    independent = _one_nn(own_x, np.argmax(victim(own_x), axis=1))  # trained on its own data
    x_marked, labels_marked = x[mask], np.argmax(answers[mask], axis=1)
    rate_s, p_s = wm.verify(stolen, x_marked, labels_marked)
    rate_i, p_i = wm.verify(independent, x_marked, labels_marked)
    assert rate_s > 0.95 and p_s < 1e-20
    assert rate_i < 0.2 and p_i > 1e-3


def test_bad_input():
    with pytest.raises(ValueError, match="key must not be empty"):
        Watermark(b"")
    for rate in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match=r"rate must be in \(0, 1\)"):
            Watermark(b"k", rate=rate)

    class DeviceArray:
        __cuda_array_interface__ = {}

    with pytest.raises(TypeError, match="must be a host array"):
        Watermark(b"k").digests(DeviceArray())
    with pytest.raises(ValueError, match="same number of queries"):
        Watermark(b"k").apply(np.zeros((3, 2)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="num_classes is unknown"):
        Watermark(b"k").verify(lambda x: x, np.zeros((2, 2)), np.zeros(2))
