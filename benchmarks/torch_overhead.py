"""What the PyTorch integration costs (docs/torch.md, benchmarks/RESULTS.md "PyTorch"):

1. per call, an mlsec:: custom op against the kernel called directly: ``fgsm`` on (1, 1000)
   and (64, 3, 224, 224) float32, three ways: the NumPy API on NumPy arrays (the C++ fast
   path), the NumPy API on CPU tensors, and ``torch.ops.mlsec.fgsm`` on the same tensors;
2. a small CNN (32x32 inputs, batch 64) compiled with ``torch.compile``, with and without a
   MedianFilter(3) front.

Median (or, with --stat min, the minimum: the least disturbed by a loaded machine) of
repeated timings after a warm-up, on whatever threads this machine has:
    PYTHONPATH=src python benchmarks/torch_overhead.py [--rounds 15] [--stat min] [--skip-cnn]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import mlsec_kernels as mk
import mlsec_kernels.torch as mt

STAT = statistics.median


def timeit(fn, rounds, min_time=0.05):
    """STAT (median or min) of seconds per call: each round repeats fn for at least min_time."""
    fn()
    reps = 1
    while True:
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        if time.perf_counter() - t >= min_time:
            break
        reps *= 2
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t) / reps)
    return STAT(times)


def overhead(rounds):
    rows = []
    for shape in ((1, 1000), (64, 3, 224, 224)):
        g = np.random.default_rng(0)
        x, gr = g.random(shape, dtype=np.float32), g.standard_normal(shape).astype(np.float32)
        xt, gt = torch.from_numpy(x), torch.from_numpy(gr)
        ways = {
            "mk.fgsm(numpy)": lambda: mk.fgsm(x, gr, 0.1),
            "mk.fgsm(tensor)": lambda: mk.fgsm(xt, gt, 0.1),
            "torch.ops.mlsec.fgsm": lambda: torch.ops.mlsec.fgsm(xt, gt, 0.1, False, 0.0, 1.0),
        }
        rows.append((shape, {k: timeit(f, rounds) for k, f in ways.items()}))
    return rows


def cnn(front):
    torch.manual_seed(0)
    layers = [mt.MedianFilter(3)] if front else []
    layers += [
        torch.nn.Conv2d(3, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(32, 10),
    ]
    return torch.nn.Sequential(*layers).eval()


def compiled(rounds):
    x = torch.rand(64, 3, 32, 32)
    res = {}
    for front in (False, True):
        m = cnn(front)
        c = torch.compile(m, fullgraph=True)
        with torch.no_grad():
            # inductor's own conv/pool/linear code rounds differently from eager's (the
            # mlsec op itself gives eager's bits: tests/test_torch.py)
            diff = (c(x) - m(x)).abs().max().item()
            res[front] = (timeit(lambda: m(x), rounds), timeit(lambda: c(x), rounds), diff)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--stat", choices=("median", "min"), default="median")
    ap.add_argument("--skip-cnn", action="store_true", help="only the per-call table")
    a = ap.parse_args()
    global STAT
    STAT = min if a.stat == "min" else statistics.median
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, {a.stat} of {a.rounds} rounds")
    print("\n| shape | mk.fgsm(numpy) | mk.fgsm(tensor) | torch.ops.mlsec.fgsm | op - numpy |")
    print("|---|---|---|---|---|")
    for shape, t in overhead(a.rounds):
        v = list(t.values())
        print(f"| {shape} | " + " | ".join(f"{s * 1e6:.1f} us" for s in v) + f" | {(v[2] - v[0]) * 1e6:+.1f} us |")
    if a.skip_cnn:
        return
    print("\n| CNN, batch (64, 3, 32, 32) | eager | torch.compile | max abs(compiled - eager) |")
    print("|---|---|---|---|")
    for front, (e, c, d) in compiled(a.rounds).items():
        print(f"| {'MedianFilter(3) + CNN' if front else 'CNN'} | {e * 1e3:.2f} ms | {c * 1e3:.2f} ms | {d:.1e} |")


if __name__ == "__main__":
    main()
