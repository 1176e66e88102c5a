"""Feature-squeezing benchmarks: (64, 3, 224, 224) float32 against the memory-bandwidth floor
and the peers installed here (SciPy/ART's median_filter, OpenCV, a NumPy bit-depth expression).

    OMP_NUM_THREADS=2 NUMBA_NUM_THREADS=2 PYTHONPATH=src python benchmarks/squeeze_bench.py [--full] [--cpu]

The floor is one read and one write of the batch (np.copyto, best of 7). SciPy runs on an
eighth of the batch (scaled up) unless --full is given. Prints best-of-7 wall times, or
with --cpu the process's CPU time (all threads), which a shared, busy machine disturbs less.
"""
import sys
import time

import numpy as np
from scipy import ndimage

import mlsec_kernels as mk

try:
    import cv2

    cv2.setNumThreads(int(__import__("os").environ.get("OMP_NUM_THREADS", "2")))
except ImportError:
    cv2 = None


CLOCK = time.process_time if "--cpu" in sys.argv else time.perf_counter


def best(f, reps=7):
    f()
    t = []
    for _ in range(reps):
        t0 = CLOCK()
        f()
        t.append(CLOCK() - t0)
    return min(t) * 1e3


def row(name, ms, floor, peers):
    text = "  ".join(f"{p}: {pm:8.1f} ms ({pm / ms:6.1f}x)" for p, pm in peers.items())
    print(f"{name:<22} {ms:8.2f} ms  {ms / floor:5.2f}x floor  {text}")


def main(full):
    rng = np.random.default_rng(0)
    x = rng.random((64, 3, 224, 224), dtype=np.float32)
    out = np.empty_like(x)
    floor = best(lambda: np.copyto(out, x))
    print(f"{'floor (read + write)':<22} {floor:8.2f} ms   backends: {mk.backends()}")
    m = np.float32(31)
    row("bit_depth 5", best(lambda: mk.bit_depth(x, 5, out=out)), floor,
        {"numpy": best(lambda: np.rint(x * m) / m, 3)})
    part = x if full else x[:8]
    scale = len(x) / len(part)
    for s in (2, 3, 5):
        peers = {"scipy": best(lambda: ndimage.median_filter(part, size=(1, 1, s, s), mode="reflect"), 1) * scale}
        if cv2 is not None and s in (3, 5):
            planes = x.reshape(-1, 224, 224)
            peers["cv2.medianBlur"] = best(lambda: [cv2.medianBlur(p, s) for p in planes], 3)
        row(f"median_filter {s}x{s}", best(lambda: mk.median_filter(x, s, out=out)), floor, peers)
    xu = (rng.random((64, 3, 32, 32)) * 255).astype(np.uint8)
    peers = {}
    if cv2 is not None:
        planes = [np.ascontiguousarray(p) for p in xu.reshape(-1, 32, 32)]
        peers["cv2.fastNlMeansDenoising"] = best(lambda: [cv2.fastNlMeansDenoising(p, None, 2.0, 3, 13) for p in planes], 3)
    row("nlm 13-3 u8 CIFAR x64", best(lambda: mk.non_local_means(xu, h=2.0), 3), floor, peers)


if __name__ == "__main__":
    main("--full" in sys.argv)
