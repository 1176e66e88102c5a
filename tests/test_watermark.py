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


KEY = b"\x9c\x01 owner-only watermark key \xfe"


def _key_shows(text):
    return any(k in text for k in (repr(KEY), KEY.hex(), str(KEY), KEY.decode("latin-1"), "owner-only"))


def test_key_stays_out_of_vars_repr_and_dumps():
    w = Watermark(KEY, rate=0.1)
    assert not _key_shows(repr(vars(w))) and not _key_shows(repr(w)) and not _key_shows(str(w))
    members = {name: getattr(w, name) for name in dir(w)}  # what a debugger's dump walks
    assert not _key_shows(repr(members))
    assert not any(isinstance(v, (bytes, bytearray)) and KEY in v for v in members.values())
    assert vars(w).keys() == {"rate", "_cut", "num_classes"}
    with pytest.raises(AttributeError):
        w.key  # noqa: B018 (no public attribute holds it)


def test_pickle_refused_unless_opted_in():
    import pickle

    w = Watermark(KEY, rate=0.1)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        with pytest.raises(TypeError, match="not picklable.*picklable=True") as e:
            pickle.dumps(w, protocol=protocol)
        assert not _key_shows(str(e.value))
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps({"model": 1, "watermark": w})  # nested in what a server saves
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(w._key)  # nor the holder of the bytes on its own
    with pytest.raises(TypeError, match="picklable must be a bool"):
        Watermark(KEY, picklable="yes")

    x = np.random.default_rng(4).random((50, 12)).astype(np.float32)
    p = np.random.default_rng(5).dirichlet(np.ones(4), size=50)
    opted = Watermark(KEY, rate=0.3, picklable=True)
    opted.apply(x, p)
    back = pickle.loads(pickle.dumps(opted))
    np.testing.assert_array_equal(back.digests(x), w.digests(x))  # same key, same digests
    np.testing.assert_array_equal(back.apply(x, p)[0], opted.apply(x, p)[0])
    assert back.rate == 0.3 and back.num_classes == 4 and KEY in pickle.dumps(opted)
    pickle.dumps(back)  # the copy keeps the choice


@pytest.mark.parametrize("picklable", [False, True])
def test_copies_stay_in_process_and_keep_the_choice(picklable):
    import copy
    import pickle

    x = np.random.default_rng(6).random((20, 9))
    w = Watermark(KEY, rate=0.2, picklable=picklable)
    for c in (copy.copy(w), copy.deepcopy(w), copy.deepcopy([w])[0]):
        assert c is not w and c.rate == w.rate
        np.testing.assert_array_equal(c.digests(x), w.digests(x))
        if picklable:
            pickle.dumps(c)
        else:
            with pytest.raises(TypeError, match="not picklable"):
                pickle.dumps(c)


def test_multiprocessing_refuses_to_ship_the_key():
    import concurrent.futures
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        with pytest.raises(TypeError, match="not picklable"):
            pool.submit(repr, Watermark(KEY)).result()
