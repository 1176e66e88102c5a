"""RSS growth over many small calls: a server calls these ops millions of times, and any
per-call leak (a reference kept, a buffer cached per shape, an exception's traceback held)
shows up as resident memory that grows with the call count.

    python benchmarks/rss_growth.py --calls 1000000 [--backend cpp]

It cycles through every public op on (1, 1000)-sized inputs, one call in eight with a bad
argument (so the error paths are counted too), measures VmRSS after a warm-up of
``--warmup`` calls, then after ``--calls`` more, and prints the growth. Records go in
docs/fuzz.md.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np

import mlsec_kernels as mk
from mlsec_kernels import output


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _calls(backend: str):
    rng = np.random.default_rng(0)
    x = rng.random((1, 1000), dtype=np.float32)
    g = rng.standard_normal((1, 1000), dtype=np.float32)
    img = rng.random((1, 1, 25, 40), dtype=np.float32)
    p = rng.dirichlet(np.ones(10), size=1)
    out = np.empty_like(x)
    b = {"backend": backend}
    good = [
        lambda: mk.fgsm(x, g, 0.03, out=out, **b),
        lambda: mk.pgd_step(x, g, x, 0.03, 0.01, norm=2, out=out, **b),
        lambda: mk.project(g, 0.5, norm=1, **b),
        lambda: mk.random_start(x, 0.03, seed=1, **b),
        lambda: mk.bit_depth(x, 4, **b),
        lambda: mk.median_filter(img, 3, **b),
        lambda: mk.non_local_means(img, h=0.1, template_size=3, search_size=5, **b),
        lambda: mk.gaussian_noise(x, 0.1, seed=2, **b),
        lambda: mk.uniform_noise(x, 0.1, seed=3, **b),
        lambda: mk.random_resize_pad(img, min_size=20, out_size=48, seed=4, **b),
        lambda: mk.pixel_deflection(img, 10, 3, seed=5, **b),
        lambda: output.reverse_sigmoid(p, **b),
        lambda: output.top_k(p, 3, **b),
        lambda: mk.rng.normal((1, 1000), seed=6, **b),
    ]
    bad = [
        lambda: mk.fgsm(x, g, "big", **b),
        lambda: mk.bit_depth(x, 0, **b),
        lambda: mk.median_filter(img, 3, layout="NWHC", **b),
        lambda: mk.gaussian_noise(x, -1.0, **b),
        lambda: mk.fgsm(x, g[:, :10], 0.1, **b),
        lambda: output.top_k(p, 0, **b),
    ]
    mixed = []
    for i, f in enumerate(itertools.islice(itertools.cycle(good), 7 * len(bad))):
        mixed.append(f)
        if i % 7 == 6:
            mixed.append(bad[i // 7])
    return mixed


def run(calls: int, warmup: int, backend: str) -> dict:
    seq = _calls(backend)
    it = itertools.cycle(seq)

    def go(n):
        for _ in range(n):
            f = next(it)
            try:
                f()
            except (TypeError, ValueError):
                pass

    go(warmup)
    before = _rss_kib()
    t0 = time.perf_counter()
    go(calls)
    secs = time.perf_counter() - t0
    after = _rss_kib()
    return {"calls": calls, "rss_before_kib": before, "rss_after_kib": after, "growth_kib": after - before, "s": secs}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--warmup", type=int, default=20_000)
    ap.add_argument("--backend", default="cpp", choices=["cpp", "numba"])
    a = ap.parse_args(argv)
    r = run(a.calls, a.warmup, a.backend)
    print(
        f"{a.backend}: {r['calls']} calls in {r['s']:.1f} s; RSS {r['rss_before_kib']} -> {r['rss_after_kib']} KiB "
        f"(growth {r['growth_kib']} KiB)"
    )


if __name__ == "__main__":
    main()
