"""Attack drivers' own overhead (time outside the model's calls), side by side.

    PYTHONPATH=src python benchmarks/attacks_bench.py [--n 128] [--repeats 7]

1. pgd (10 steps, inf) around a trivial model (loss_grad returns x as the gradient) versus
   10 bare fused pgd_step calls on the same batch (and versus random_start + 10 steps,
   which is what pgd runs).
2. square_attack per iteration versus ART's SquareAttack (if installed) on the same batch,
   with a model that is never fooled (every image stays active for every iteration); the
   model's time is measured inside the callable and subtracted.
Medians of the repeats; absolute times only mean something on the machine that ran them.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import mlsec_kernels as mk
from mlsec_kernels import attacks as A


class Timed:
    """Wraps a callable and adds its own time to .spent."""

    def __init__(self, fn):
        self.fn, self.spent, self.calls = fn, 0.0, 0

    def __call__(self, *a):
        t = time.perf_counter()
        r = self.fn(*a)
        self.spent += time.perf_counter() - t
        self.calls += 1
        return r


def _median(f, repeats):
    ts = []
    for _ in range(repeats):
        ts.append(f())
    return float(np.median(ts))


def bench_pgd(n, repeats):
    x = np.random.default_rng(0).random((n, 3, 32, 32), dtype=np.float32)
    y = np.zeros(n, np.int64)
    eps, step = 8 / 255, 2 / 255

    res = np.empty_like(x)

    def run_pgd(rs, out=None):
        lg = Timed(lambda a, b: (0.0, a))
        t = time.perf_counter()
        A.pgd(lg, x, y, eps, step=step, n_steps=10, random_start=rs, seed=1, out=out)
        return time.perf_counter() - t - lg.spent

    cur = x.copy()

    def bare(rs):
        t = time.perf_counter()
        if rs:
            mk.random_start(x, eps, seed=1, out=cur)
        else:
            cur[...] = x
        for _ in range(10):
            mk.pgd_step(cur, x, cur, step, eps, out=cur)  # the identity gradient: grad is the iterate
        return time.perf_counter() - t

    for f in (run_pgd, bare):  # warm-up
        f(True)
    rows = []
    for rs in (False, True):
        for out in (None, res):
            a, b = _median(lambda: run_pgd(rs, out), repeats), _median(lambda: bare(rs), repeats)
            rows.append((rs, out is not None, a, b))
            label = ("random_start + 10 steps" if rs else "10 steps, no random start") + (", out=" if out is not None else ", new result")
            print(f"pgd {label:<38} outside the model {a * 1e3:7.3f} ms   bare kernels {b * 1e3:7.3f} ms   ratio {a / b:5.2f}")
    return rows


def _never_fooled(k):
    def predict(q):
        q = np.asarray(q).reshape(len(q), -1)
        s = np.zeros((len(q), k), np.float32)
        s[:, 0] = 100.0 + q.mean(1)
        s[:, 1:] = q[:, :k - 1]
        return s

    return predict


def bench_square(n, repeats, iters=100):
    x = np.random.default_rng(0).random((n, 3, 32, 32), dtype=np.float32)
    y = np.zeros(n, np.int64)
    k = 10

    def ours():
        p = Timed(_never_fooled(k))
        t = time.perf_counter()
        A.square_attack(p, x, y, 8 / 255, n_queries=iters + 1, p_init=0.05, seed=0)
        return (time.perf_counter() - t - p.spent) / iters

    res = {"ours_ms_per_iter": _median(ours, repeats) * 1e3}
    print(f"square_attack: own time per iteration {res['ours_ms_per_iter']:.3f} ms ({n} images 3x32x32)")
    try:
        from art.attacks.evasion import SquareAttack
        from art.estimators.classification import BlackBoxClassifierNeuralNetwork as BlackBoxClassifier
    except ImportError:
        print("ART not installed: pip install adversarial-robustness-toolbox to compare")
        return res

    def theirs():
        p = Timed(_never_fooled(k))
        est = BlackBoxClassifier(p, x.shape[1:], k, clip_values=(0.0, 1.0))
        atk = SquareAttack(est, norm=np.inf, max_iter=iters, eps=8 / 255, p_init=0.05, nb_restarts=1,
                           batch_size=n, verbose=False)
        t = time.perf_counter()
        atk.generate(x, y=np.eye(k)[y])
        return (time.perf_counter() - t - p.spent) / iters, p.calls

    out = [theirs() for _ in range(repeats)]
    res["art_ms_per_iter"] = float(np.median([o[0] for o in out])) * 1e3
    res["art_predict_calls"] = out[0][1]
    print(f"ART SquareAttack: own time per iteration {res['art_ms_per_iter']:.3f} ms "
          f"({res['art_predict_calls']} predict calls); ratio ART/ours {res['art_ms_per_iter'] / res['ours_ms_per_iter']:.1f}x")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    bench_pgd(a.n, a.repeats)
    bench_square(a.n, a.repeats)
