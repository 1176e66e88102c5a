"""Best-of-7 wall time of a few kernels on the CPU tier this process runs, to compare two
builds (two source trees) on every tier:

    for t in default avx2 avx512; do for d in OLD NEW; do
      OMP_NUM_THREADS=1 MLSEC_CPU_CAPABILITY=$t PYTHONPATH=$d/src python benchmarks/tier_compare.py
    done; done

The cases are the kernels a change touched; edit CASES for another change."""

import time

import numpy as np

import mlsec_kernels as mk

rs = np.random.default_rng(0)
p10 = rs.dirichlet(np.ones(10), 20000).astype(np.float32)
p1k = rs.dirichlet(np.ones(1000), 1000).astype(np.float32)
x0 = rs.random((64, 3 * 32 * 32)).astype(np.float32)
img = rs.random((16, 3, 224, 224)).astype(np.float32)
CASES = {
    "reverse_sigmoid (20000,10)": lambda: mk.output.reverse_sigmoid(p10, beta=0.8, gamma=0.2, backend="cpp"),
    "reverse_sigmoid (1000,1000)": lambda: mk.output.reverse_sigmoid(p1k, beta=0.8, gamma=0.2, backend="cpp"),
    "output noise renorm (1000,1000)": lambda: mk.output.gaussian_noise(
        p1k, scale=0.01, seed=1, renormalize=True, backend="cpp"
    ),
    "random_start L2 (64,3072)": lambda: mk.random_start(x0, 0.5, norm=2, seed=1, backend="cpp"),
    "pixel_deflection (16,3,224,224) x100": lambda: mk.pixel_deflection(img, 100, 10, seed=1, backend="cpp"),
}

if __name__ == "__main__":
    print("tier", mk._backend.cpu_capability())
    for name, f in CASES.items():
        f()
        best = float("inf")
        for _ in range(7):
            t = time.perf_counter()
            for _ in range(5):
                f()
            best = min(best, (time.perf_counter() - t) / 5)
        print(f"{name:40s} {best * 1e3:8.3f} ms")
