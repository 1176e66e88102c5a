"""The fused Guard: bit for bit the steps applied one by one, picklable, readable."""

import pickle

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlsec_kernels import _backend
from mlsec_kernels import output as O
from mlsec_kernels.output._postprocess import _run

from .helpers import dev, host

ONE_BY_ONE = {
    O.ReverseSigmoid: lambda s, p, b: O.reverse_sigmoid(p, beta=s.beta, gamma=s.gamma, backend=b),
    O.Round: lambda s, p, b: O.round(p, decimals=s.decimals, backend=b),
    O.HighConfidence: lambda s, p, b: O.high_confidence(p, cutoff=s.cutoff, backend=b),
    O.TopK: lambda s, p, b: O.top_k(p, s.k, one_hot=s.one_hot, backend=b),
    O.ClassLabels: lambda s, p, b: O.class_labels(p, backend=b),
}

PROGRAMS = [
    lambda: [O.ReverseSigmoid(beta=0.8, gamma=0.2), O.GaussianNoise(scale=0.01, seed=4), O.Round(3), O.TopK(5)],
    lambda: [O.GaussianNoise(scale=0.05, seed=7, renormalize=True), O.HighConfidence(0.05), O.ReverseSigmoid()],
    lambda: [O.Round(2), O.ClassLabels()],
    lambda: [O.TopK(40, one_hot=False), O.GaussianNoise(scale=0.2, seed=1, renormalize=False), O.TopK(3, one_hot=True)],
    lambda: [],
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", PROGRAMS)
@pytest.mark.parametrize("shape", [(1, 1000), (7, 50), (80, 1000)])
def test_guard_equals_steps(backend, rng, dtype, make, shape):
    p = rng.dirichlet(np.full(shape[1], 0.3), size=shape[0]).astype(dtype)
    steps = make()
    fused = host(O.Guard(steps)(dev(p, backend), backend=backend))
    want = dev(p.copy(), backend)
    for s in make():  # fresh steps: a seeded noise step starts again at substream 0
        if isinstance(s, O.GaussianNoise):
            want = O.gaussian_noise(want, scale=s.scale, seed=s.seed, renormalize=s.renormalize, backend=backend)
        else:
            want = ONE_BY_ONE[type(s)](s, want, backend)
    np.testing.assert_array_equal(fused, host(want))
    assert fused.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_guard_binary(backend, rng, dtype):
    """One column (P(positive)): every step runs on it, fused as one by one."""
    p = rng.random((300, 1)).astype(dtype)
    steps = [O.ReverseSigmoid(beta=0.8, gamma=0.2), O.GaussianNoise(scale=0.05, seed=2), O.HighConfidence(0.1)]
    steps += [O.Round(2), O.TopK(1), O.ClassLabels()]
    fused = host(O.Guard(steps)(dev(p, backend), backend=backend))
    want = O.gaussian_noise(
        O.reverse_sigmoid(dev(p, backend), beta=0.8, gamma=0.2, backend=backend), scale=0.05, seed=2, backend=backend
    )
    want = O.class_labels(O.round(O.high_confidence(want, cutoff=0.1, backend=backend), decimals=2, backend=backend))
    np.testing.assert_array_equal(fused, host(want))
    assert set(np.unique(fused)) <= {0.0, 1.0} and 0 < fused.sum() < len(p)


def test_noise_step_takes_a_fresh_substream_per_call():
    p = np.full((2, 20), 0.05, np.float32)
    g = O.Guard([O.GaussianNoise(0.1, seed=3)])
    a, b = g(p), g(p)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, O.gaussian_noise(p, scale=0.1, seed=3))


def test_pickle_and_repr():
    g = O.Guard([O.ReverseSigmoid(beta=0.8, gamma=0.2), O.GaussianNoise(scale=0.01, seed=5), O.Round(3), O.TopK(5)])
    assert repr(g) == (
        "Guard([ReverseSigmoid(beta=0.8, gamma=0.2), GaussianNoise(scale=0.01, seed=5, renormalize='auto'), "
        "Round(decimals=3), TopK(k=5, one_hot=False)])"
    )
    p = np.random.default_rng(0).dirichlet(np.ones(10), size=3).astype(np.float32)
    g(p)
    copy = pickle.loads(pickle.dumps(g))
    assert repr(copy) == repr(g) and copy.steps == g.steps
    np.testing.assert_array_equal(copy(p), g(p))  # the copy continues where the original stands
    secret = O.Guard([O.GaussianNoise(0.1)])
    assert not np.array_equal(pickle.loads(pickle.dumps(secret))(p), secret(p))


def test_bad_steps():
    with pytest.raises(TypeError, match="Guard steps must be"):
        O.Guard([O.Round(3), "round"])
    with pytest.raises(ValueError, match="at most 8 steps"):
        O.Guard([O.Round(3)] * 9)
    with pytest.raises(ValueError, match=r"k must be in \[1, C\]"):
        O.Guard([O.TopK(11)])(np.full((2, 10), 0.1, np.float32))
    with pytest.raises(ValueError, match="decimals must be >= 0"):
        O.Round(-2)
    with pytest.raises(ValueError, match="scale must be finite"):
        O.GaussianNoise(scale=float("inf"))


STEP = st.one_of(
    st.builds(O.ReverseSigmoid, st.floats(0.01, 3), st.floats(0.01, 3)),
    st.builds(O.GaussianNoise, st.floats(0, 0.5), st.integers(0, 2**64 - 1), st.sampled_from(["auto", True, False])),
    st.builds(O.Round, st.integers(0, 6)),
    st.builds(O.HighConfidence, st.floats(0, 1)),
    st.builds(O.TopK, st.integers(1, 2), st.booleans()),
    st.just(O.ClassLabels()),
)


@settings(max_examples=60, deadline=None)
@given(
    p=hnp.arrays(
        st.sampled_from([np.float32, np.float64]),
        st.tuples(st.integers(0, 5), st.integers(1, 40)),  # C = 1: a binary model's P(positive)
        elements=st.floats(-2, 2, width=32),
    ),
    steps=st.lists(STEP, max_size=4),
)
def test_properties(p, steps):
    """Any batch and program: C++ and Numba give the same bits, and the fused Guard is the steps one by one."""
    assume(all(not isinstance(s, O.TopK) or s.k <= p.shape[1] for s in steps))
    enc = tuple(s._encode() for s in steps)
    hosts = [b for b in ("cpp", "numba") if _backend.available(b)]
    runs = [_run(p, enc, None, b) for b in hosts]
    for r in runs[1:]:
        np.testing.assert_array_equal(runs[0], r)
    want = p.copy()
    for e in enc:
        want = _run(want, (e,), None, hosts[0])
    np.testing.assert_array_equal(runs[0], want)
    assert runs[0].shape == p.shape and runs[0].dtype == p.dtype
