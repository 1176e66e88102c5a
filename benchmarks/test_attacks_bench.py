"""Attack drivers' own overhead: their time outside the model's calls (the model is timed
inside the callable; extra_info's ``own_ms`` is the rest, per run or per iteration), on
CIFAR-sized batches, 128 x 3x32x32 float32 with --bench-full.

- pgd, 10 inf steps around an identity gradient (loss_grad returns x), with and without a
  random start, returning a new array or writing ``out=``, against the bare kernels it runs
  (random_start + 10 fused pgd_step calls) in the same group;
- square_attack per iteration against ART's SquareAttack (where installed) on the same
  batch, with a model that is never fooled, so every image stays active every iteration.

Absolute times mean something only on the machine that ran them. On a shared, loaded
machine ``OMP_NUM_THREADS=1`` keeps OpenMP's barrier waits from dominating both sides.
"""

import time

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import attacks as A

EPS, STEP, STEPS = 8 / 255, 2 / 255, 10
K = 10  # classes


class Timed:
    """The model, its time summed into .spent and its calls counted."""

    def __init__(self, fn):
        self.fn, self.spent, self.calls = fn, 0.0, 0

    def __call__(self, *a):
        t = time.perf_counter()
        r = self.fn(*a)
        self.spent += time.perf_counter() - t
        self.calls += 1
        return r


def own_time(benchmark, model, run, per=1):
    """`run` wrapped so that extra_info holds its mean time outside `model` over every
    call (``own_ms``, divided by `per`) and the model's calls per run."""
    total = {"own": 0.0, "runs": 0}

    def call():
        before, t = model.spent, time.perf_counter()
        run()
        total["own"] += time.perf_counter() - t - (model.spent - before)
        total["runs"] += 1
        runs = total["runs"]
        benchmark.extra_info.update(own_ms=total["own"] / runs / per * 1e3, model_calls_per_run=model.calls / runs)

    return call


@pytest.fixture
def batch(full):
    n = 128 if full else 8
    return np.random.default_rng(0).random((n, 3, 32, 32), dtype=np.float32), np.zeros(n, np.int64)


@pytest.mark.parametrize("start", [False, True], ids=["no-random-start", "random-start"])
@pytest.mark.parametrize("who", ["pgd-new-result", "pgd-out", "bare-kernels"])
def test_pgd_overhead(who, start, batch, benchmark, measure):
    x, y = batch
    cur = np.empty_like(x)
    model = Timed(lambda a, b: (0.0, a))
    if who == "bare-kernels":

        def run():
            if start:
                mk.random_start(x, EPS, seed=1, out=cur)
            else:
                cur[...] = x
            for _ in range(STEPS):
                mk.pgd_step(cur, x, cur, STEP, EPS, out=cur)  # the identity gradient: grad is the iterate
    else:
        out = cur if who == "pgd-out" else None
        run = lambda: A.pgd(model, x, y, EPS, step=STEP, n_steps=STEPS, random_start=start, seed=1, out=out)
    measure(
        own_time(benchmark, model, run),
        f"pgd-{STEPS}steps-{'random-start' if start else 'no-random-start'}-{len(x)}x3x32x32",
    )


def never_fooled(q):
    q = np.asarray(q).reshape(len(q), -1)
    s = np.zeros((len(q), K), np.float32)
    s[:, 0] = 100.0 + q.mean(1)
    s[:, 1:] = q[:, : K - 1]
    return s


@pytest.mark.parametrize("who", ["ours", "art"])
def test_square_attack_per_iteration(who, batch, full, benchmark, measure):
    x, y = batch
    iters = 100 if full else 10
    model = Timed(never_fooled)
    if who == "ours":
        run = lambda: A.square_attack(model, x, y, EPS, n_queries=iters + 1, p_init=0.05, seed=0)
    else:
        pytest.importorskip("art", reason="ART is not installed (pip install adversarial-robustness-toolbox)")
        from art.attacks.evasion import SquareAttack
        from art.estimators.classification import BlackBoxClassifierNeuralNetwork

        def run():
            est = BlackBoxClassifierNeuralNetwork(model, x.shape[1:], K, clip_values=(0.0, 1.0))
            SquareAttack(
                est, norm=np.inf, max_iter=iters, eps=EPS, p_init=0.05, nb_restarts=1, batch_size=len(x), verbose=False
            ).generate(x, y=np.eye(K)[y])

    measure(own_time(benchmark, model, run, per=iters), f"square_attack-{iters}iters-{len(x)}x3x32x32")
