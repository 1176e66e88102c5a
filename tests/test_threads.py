"""Threads: every op called from 8 threads at once, on shared inputs and each thread's own
`out`, gives every thread the single-threaded result bit for bit, on both host backends;
the shared objects (Generator, Guard, Watermark, ExtractionMonitor) keep their documented
guarantees when threads share them.

The C++ kernels release the GIL and the Numba ones are compiled nogil, so these calls do
run at the same time. sys.setswitchinterval is lowered while threads run so that the
Python parts of the calls interleave too (a race in the Python layer has a chance to show).
"""

import contextlib
import sys
import threading
import time
from collections import Counter

import numba
import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import output as O
from mlsec_kernels import rng, smoothing
from mlsec_kernels._constants import PARALLEL_MIN

from .helpers import skip_unless
from .test_layers import PUBLIC

THREADS = 8
REPEAT = 3


@contextlib.contextmanager
def _busy_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def run_threads(work, threads=THREADS):
    """work(t) on `threads` threads started together; their results, in thread order.
    An exception on any thread fails the test with it."""
    start = threading.Barrier(threads)
    results, errors = [None] * threads, []

    def body(t):
        try:
            start.wait()
            results[t] = work(t)
        except BaseException as e:  # noqa: BLE001 (re-raised on the main thread)
            errors.append(e)

    pool = [threading.Thread(target=body, args=(t,)) for t in range(threads)]
    with _busy_switching():
        for th in pool:
            th.start()
        for th in pool:
            th.join()
    if errors:
        raise errors[0]
    return results


def _images(rng_, n=3, c=2, h=9, w=11, dtype=np.float32):
    return rng_.random((n, c, h, w)).astype(dtype)


def _probs(rng_, n=6, c=10):
    return rng_.dirichlet(np.full(c, 0.5), size=n).astype(np.float32)


def _linear_model(batch):
    flat = batch.reshape(batch.shape[0], -1)
    s = flat[:, : flat.shape[1] // 2].sum(1) - flat[:, flat.shape[1] // 2 :].sum(1)
    return np.stack([-s, s], axis=1)


# name -> (public ops covered, make(rng) -> (call(backend, out) -> result, out template or None)).
# Every call is deterministic: a seeded op gets an int seed (substream 0 on every call).
def _cases():
    def elementwise(op):
        def make(r):
            x, g = _images(r), r.standard_normal((3, 2, 9, 11)).astype(np.float32)
            eps = np.array([0.05, 0.1, 0.2])
            calls = {
                "fgsm": lambda b, o: mk.fgsm(x, g, eps, out=o, backend=b),
                "pgd_step": lambda b, o: mk.pgd_step(
                    x + 0.01, x, g, 0.02, eps, norm=1, l1_sparsity=0.9, out=o, backend=b
                ),
                "project": lambda b, o: mk.project(g, eps, norm=1, out=o, backend=b),
                "random_start": lambda b, o: mk.random_start(x, eps, norm=2, seed=11, out=o, backend=b),
                "bit_depth": lambda b, o: mk.bit_depth(x, 3, out=o, backend=b),
                "median_filter": lambda b, o: mk.median_filter(x, 3, out=o, backend=b),
                "non_local_means": lambda b, o: mk.non_local_means(x, h=0.3, search_size=5, out=o, backend=b),
                "gaussian_noise": lambda b, o: mk.gaussian_noise(x, 0.1, seed=5, clip=(0, 1), out=o, backend=b),
                "uniform_noise": lambda b, o: mk.uniform_noise(x, eps, seed=6, out=o, backend=b),
                "pixel_deflection": lambda b, o: mk.pixel_deflection(x, 20, 2, seed=7, out=o, backend=b),
            }
            return calls[op], np.empty_like(x)

        return make

    def resize(r):
        x = _images(r)
        return (
            lambda b, o: mk.random_resize_pad(x, 14, min_size=5, seed=8, interpolation="bilinear", out=o, backend=b),
            np.empty((3, 2, 14, 14), np.float32),
        )

    def post(op, **kw):
        def make(r):
            p = _probs(r)
            return (lambda b, o: getattr(O, op)(p, out=o, backend=b, **kw)), np.empty_like(p)

        return make

    def guard(r):
        p = _probs(r)
        g = O.Guard([O.ReverseSigmoid(beta=0.7, gamma=0.3), O.Round(4), O.HighConfidence(0.01), O.TopK(4)])
        return (lambda b, o: g(p, out=o, backend=b)), np.empty_like(p)

    def draws(op):
        def make(r):
            dtype = np.uint32 if op == "random_raw" else np.float32
            return (lambda b, o: getattr(rng, op)(o.shape, seed=9, substream=2, offset=5, out=o, backend=b)), np.empty(
                (37, 5), dtype
            )

        return make

    def smoothed(r):
        x = _images(r, n=2, c=1, h=4, w=4)
        return (lambda b, o: smoothing.certify(_linear_model, x, 0.25, 16, 64, batch_size=24, seed=12, backend=b)), None

    cases = {op: ((op,), elementwise(op)) for op in PUBLIC_TOP_LEVEL}
    cases["random_resize_pad"] = (("random_resize_pad",), resize)
    for op, kw in (
        ("reverse_sigmoid", {}),
        ("gaussian_noise", {"scale": 0.1, "seed": 4}),
        ("round", {"decimals": 2}),
        ("high_confidence", {"cutoff": 0.1}),
        ("top_k", {"k": 3}),
        ("class_labels", {}),
    ):
        cases[f"output.{op}"] = ((f"output.{op}",), post(op, **kw))
    cases["output.Guard"] = ((), guard)
    for op in ("uniform", "normal", "random_raw"):
        cases[f"rng.{op}"] = ((f"rng.{op}",), draws(op))
    cases["smoothing.certify"] = ((), smoothed)
    return cases


PUBLIC_TOP_LEVEL = (
    "fgsm",
    "pgd_step",
    "project",
    "random_start",
    "bit_depth",
    "median_filter",
    "non_local_means",
    "gaussian_noise",
    "uniform_noise",
    "pixel_deflection",
)
CASES = _cases()


def test_every_public_op_has_a_thread_case():
    covered = {op for ops, _ in CASES.values() for op in ops}
    public = {op for ops in PUBLIC.values() for op in ops}
    assert public <= covered, f"no thread case for {sorted(public - covered)}"


def _same_bits(a, b):
    a, b = (np.asarray(v) for v in (a, b))
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def _fingerprint(result):
    return tuple(np.asarray(v).tobytes() for v in (result if isinstance(result, tuple) else (result,)))


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_threads_give_the_single_threaded_bits(case, backend, rng):
    skip_unless(backend)
    _, make = CASES[case]
    call, template = make(rng)
    state = {k: v.copy() for k, v in _arrays_in(call).items()}
    want = _fingerprint(call(backend, None if template is None else template.copy()))

    def work(t):
        got = []
        for _ in range(REPEAT):
            out = None if template is None else np.full_like(template, 7)
            got.append(_fingerprint(call(backend, out)))
        return got

    for t, got in enumerate(run_threads(work)):
        for i, fp in enumerate(got):
            assert fp == want, f"thread {t}, call {i}: not the single-threaded result"
    for k, v in _arrays_in(call).items():  # the shared inputs were only read
        assert _same_bits(v, state[k]), f"input {k} was written to"


def _arrays_in(fn):
    """The NumPy arrays a case's closure holds (its shared inputs)."""
    cells = [c.cell_contents for c in fn.__closure__ or ()]
    return {f"cell{i}": v for i, v in enumerate(cells) if isinstance(v, np.ndarray)}


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("op", ["fgsm", "gaussian_noise", "output.round"])
def test_threads_above_the_parallel_threshold(op, backend):
    # each call runs its own thread team (OpenMP in C++, Numba's pool): 8 callers at once
    skip_unless(backend)
    r = np.random.default_rng(3)
    if op == "output.round":
        x = r.random((PARALLEL_MIN // 64 + 3, 64)).astype(np.float32)
        call = lambda o: O.round(x, decimals=2, out=o, backend=backend)  # noqa: E731
    else:
        x = r.random((4, PARALLEL_MIN // 4 + 5)).astype(np.float32)
        if op == "fgsm":
            call = lambda o: mk.fgsm(x, x - 0.5, 0.1, out=o, backend=backend)  # noqa: E731
        else:
            call = lambda o: mk.gaussian_noise(x, 0.1, seed=3, out=o, backend=backend)  # noqa: E731
    want = call(np.empty_like(x)).copy()
    if backend == "numba" and numba.threading_layer() == "workqueue":
        pytest.skip(
            "Numba's workqueue threading layer aborts the process when two threads run parallel "
            "kernels at once; install tbb or use an OpenMP build (docs/output.md)"
        )
    got = run_threads(lambda t: [call(np.empty_like(x)) for _ in range(2)])
    assert all(_same_bits(g, want) for gs in got for g in gs)


def test_generator_hands_out_distinct_substreams_to_threads():
    g = mk.Generator(5, substream=10)
    per_thread = 2000
    got = run_threads(lambda t: [g.next_substream() for _ in range(per_thread)])
    flat = [s for gs in got for s in gs]
    assert sorted(flat) == list(range(10, 10 + THREADS * per_thread))  # each exactly once
    assert all(gs == sorted(gs) for gs in got)  # increasing within a thread
    assert g.position == 10 + THREADS * per_thread


@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_shared_generator_draws_equal_draws_of_distinct_substreams(backend):
    skip_unless(backend)
    g = mk.Generator(21)
    got = run_threads(lambda t: [g.normal((3, 7), backend=backend) for _ in range(REPEAT)])
    want = {rng.normal((3, 7), seed=21, substream=s, backend=backend).tobytes(): s for s in range(THREADS * REPEAT)}
    seen = Counter(want[a.tobytes()] for gs in got for a in gs)  # KeyError: a draw of no substream
    assert sorted(seen) == list(range(THREADS * REPEAT)) and set(seen.values()) == {1}


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize("steps", [1, 2])
def test_shared_noisy_guard_gives_each_call_its_own_sequential_result(backend, steps):
    # A Guard with seeded noise: N concurrent calls return exactly the results of N calls
    # made one after the other, each once (two noise steps take their substreams together).
    skip_unless(backend)
    p = _probs(np.random.default_rng(4), n=5, c=12)

    def make(step=O.GaussianNoise):
        noise = [step(0.05, seed=31 + i, renormalize=True) for i in range(steps)]
        return O.Guard([O.ReverseSigmoid(), *noise, O.Round(5)])

    n = THREADS * 20
    serial = make()
    want = {serial(p, backend=backend).tobytes(): k for k in range(n)}
    assert len(want) == n
    shared = make(_YieldingNoise)  # other threads run between its steps' draws
    got = run_threads(lambda t: [shared(p, backend=backend).tobytes() for _ in range(20)])
    seen = Counter(want.get(a, "none") for gs in got for a in gs)
    assert seen == Counter(range(n)), "a call got another call's substreams, or a mix of two calls'"


class _YieldingNoise(O.GaussianNoise):
    """A noise step that lets other threads run right after it takes its substream."""

    def _encode(self):
        code = super()._encode()
        time.sleep(1e-5)
        return code


def test_shared_unseeded_noise_never_repeats():
    p = np.full((1, 64), 1 / 64, np.float32)
    got = run_threads(lambda t: [O.gaussian_noise(p, scale=0.1).tobytes() for _ in range(50)])
    flat = [a for gs in got for a in gs]
    assert len(set(flat)) == len(flat)


def test_pickled_noise_step_reads_its_position_without_taking_it():
    s = O.GaussianNoise(0.1, seed=9)
    g = O.Guard([s])
    p = _probs(np.random.default_rng(5))
    g(p), g(p)
    import pickle

    copy = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(copy(p), g(p))  # both at substream 2
    assert s._gen.position == 3


def test_shared_watermark_and_monitor():
    r = np.random.default_rng(6)
    x, p = r.random((40, 16)).astype(np.float32), _probs(r, n=40)
    wm = O.Watermark(b"thread key", rate=0.3)
    want = wm.apply(x, p)
    for got in run_threads(lambda t: wm.apply(x, p)):
        assert _same_bits(got[0], want[0]) and _same_bits(got[1], want[1])

    # distinct clients from distinct threads: each as if observed alone
    batches = [r.random((300, 12)) for _ in range(THREADS)]
    labels = [r.integers(0, 3, 300) for _ in range(THREADS)]
    alone = []
    for t in range(THREADS):
        m = O.ExtractionMonitor(min_distances=20)
        for i in range(0, 300, 25):
            m.observe(t, batches[t][i : i + 25], labels[t][i : i + 25])
        alone.append(m.stats(t))
    shared = O.ExtractionMonitor(min_distances=20)

    def observe(t):
        for i in range(0, 300, 25):
            shared.observe(t, batches[t][i : i + 25], labels[t][i : i + 25])
        return shared.stats(t)

    assert run_threads(observe) == alone
    # one client from all threads: every query counted once, the state consistent
    run_threads(lambda t: [shared.observe("same", batches[t][i : i + 50], labels[t][i : i + 50]) for i in (0, 50)])
    st = shared.stats("same")
    assert st["queries"] == THREADS * 100
    assert st["distances"] == THREADS * 100 - 3  # each of the 3 classes' first query seeds its set
    assert shared.nbytes == sum(shared.stats(c)["nbytes"] for c in [*range(THREADS), "same"])
