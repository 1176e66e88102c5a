"""mlsec_kernels.dask at scale on this machine: a plain loop over in-memory batches against a
distributed.LocalCluster of 1 and 2 worker processes (one thread each).

    python benchmarks/dask_scale.py certify    # randomized-smoothing certification, images/s
    python benchmarks/dask_scale.py sanitize   # gaussian_noise + median_filter over a dataset
    python benchmarks/dask_scale.py overhead   # scheduler cost per block against its compute

The sanitising dataset is generated lazily, block by block, from the Philox stream
(:func:`mlsec_kernels.rng.uniform` at each block's offset), so it can be larger than memory
without touching the disk; each block is reduced to its sum, so memory stays bounded.
Figures go to benchmarks/RESULTS.md ("Dask") by hand.
"""

from __future__ import annotations

import argparse
import os
import time

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

import mlsec_kernels as mk
import mlsec_kernels.dask as mkd

SHAPE = (3, 224, 224)  # a sanitised image, float32 (602 KB)
SMALL = (3, 32, 32)  # a certified image (CIFAR-10's size)
KEEP_MALLOC = False


def image_block(n, start, shape=SHAPE, seed=1):
    """Images start .. start+n-1 of a synthetic dataset: uniform [0, 1) from the stream."""
    return mk.rng.uniform((n, *shape), seed=seed, offset=start * int(np.prod(shape)))


def _source_block(shape, block_info=None):
    loc = block_info[None]["array-location"][0]
    return image_block(loc[1] - loc[0], loc[0], shape)


def dataset(n, chunk, shape=SHAPE):
    """A lazy (n, *shape) float32 dask array whose blocks are generated where they run (no
    data in the graph, nothing on disk)."""
    chunks = (tuple(min(chunk, n - i) for i in range(0, n, chunk)), *((s,) for s in shape))
    meta = np.empty((0,) * 4, np.float32)
    return da.map_blocks(_source_block, shape, chunks=chunks, dtype=np.float32, meta=meta)


def sanitize_block(x, start):
    """The in-memory pipeline of one batch: noise, then a 3x3 median, reduced to a sum."""
    y = mk.gaussian_noise(x, 0.05, seed=7, clip=(0.0, 1.0), sample_start=start)
    return float(mk.median_filter(y, 3).sum(dtype=np.float64))


def sanitize_lazy(x):
    y = mkd.median_filter(mkd.gaussian_noise(x, 0.05, seed=7, clip=(0.0, 1.0)), 3)
    return y.sum(dtype=np.float64)


def _cluster(workers):
    if KEEP_MALLOC:  # distributed's MALLOC_TRIM_THRESHOLD_=65536 off (its thread limits stay)
        env = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
        env.pop("MALLOC_TRIM_THRESHOLD_", None)
        dask.config.set({"distributed.nanny.pre-spawn-environ": env})
    c = LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
    client = Client(c)
    client.run(_warm)  # imports (NumPy, Numba, the kernels) out of the timings
    return c, client


def _warm():
    image_block(1, 0, SMALL)
    mk.median_filter(image_block(1, 0), 3)


def _timed(fn):
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def bench_sanitize(n, chunk):
    gib = n * int(np.prod(SHAPE)) * 4 / 2**30
    print(f"sanitize: {n} images of {SHAPE} float32 = {gib:.1f} GiB, chunks of {chunk} images")

    def loop():
        return sum(sanitize_block(image_block(min(chunk, n - a), a), a) for a in range(0, n, chunk))

    t, ref = _timed(loop)
    print(f"  plain loop, 1 process:   {t:7.1f} s  {n / t:8.1f} images/s  {gib / t:.3f} GiB/s")
    for w in (1, 2):
        cluster, client = _cluster(w)
        try:
            t, got = _timed(lambda: sanitize_lazy(dataset(n, chunk)).compute())
        finally:
            client.close()
            cluster.close()
        same = f"sum {got:.6e}, relative difference to the loop {abs(got - ref) / abs(ref):.1e}"
        print(f"  LocalCluster {w} worker(s): {t:7.1f} s  {n / t:8.1f} images/s  {gib / t:.3f} GiB/s  ({same})")


def _linear_factory(k=10):
    d = int(np.prod(SMALL))
    w = np.random.default_rng(0).standard_normal((d, k)).astype(np.float32) / np.sqrt(d)
    return lambda b: b.reshape(len(b), -1) @ w


def linear_factory():
    return _linear_factory()


def bench_certify(n, n_noise, chunk):
    kw = dict(sigma=0.25, n0=100, n=n_noise, batch_size=1000)
    x = image_block(n, 0, SMALL)
    d = int(np.prod(SMALL))
    print(f"certify: {n} images of {SMALL}, n0=100, n={n_noise}, batch 1000, linear model {d}x10, chunks of {chunk}")
    t, ref = _timed(lambda: mk.smoothing.certify(linear_factory(), x, seed=3, progress=False, **kw))
    print(f"  smoothing.certify, 1 process: {t:6.1f} s  {n / t:6.2f} images/s")
    for w in (1, 2):
        cluster, client = _cluster(w)
        try:
            lazy = dataset(n, chunk, SMALL)
            t, got = _timed(lambda: mkd.certify(linear_factory, lazy, seed=3, progress=False, **kw))
        finally:
            client.close()
            cluster.close()
        same = "same certificates" if all(np.array_equal(a, b) for a, b in zip(got, ref)) else "DIFFERENT"
        print(f"  LocalCluster {w} worker(s):   {t:6.1f} s  {n / t:6.2f} images/s  ({same})")


def bench_overhead(n, chunks):
    """The scheduler's cost per block against the block's compute. The cost: the wall time per
    block of the same pipeline (generate, noise, median, sum) over 256 blocks of one tiny
    image (3x8x8, microseconds of compute) on a 1-worker cluster, best of 3. The compute:
    the in-memory pipeline on 64 images in this process, best of 5, per image, times the
    chunk. Also the direct figure: wall time per block of the real run at that chunk."""
    cluster, client = _cluster(1)
    try:
        tiny = sanitize_lazy(dataset(256, 1, (3, 8, 8)))
        client.compute(tiny).result()
        cost = min(_timed(lambda: client.compute(tiny).result())[0] for _ in range(3)) / 256
        one = lambda: sanitize_block(image_block(64, 0), 0)
        one()
        per_image = min(_timed(one)[0] for _ in range(5)) / 64
        print(f"overhead: gaussian_noise + median_filter 3x3 over images of {SHAPE}, 1 worker")
        print(f"  scheduler cost per block: {cost * 1e3:.2f} ms; compute per image: {per_image * 1e3:.2f} ms")
        print("  chunk (images)  compute/block  cost/compute  | real run: blocks  wall/block  (wall - compute)/compute")
        for c in chunks:
            compute = c * per_image
            blocks = -(-n // c)
            wall = _timed(lambda: client.compute(sanitize_lazy(dataset(n, c))).result())[0] / blocks
            print(
                f"  {c:14d}  {compute * 1e3:10.2f} ms  {100 * cost / compute:10.1f} %  | "
                f"{blocks:11d}  {wall * 1e3:7.2f} ms  {100 * (wall - compute) / compute:10.1f} %"
            )
    finally:
        client.close()
        cluster.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["certify", "sanitize", "overhead"])
    p.add_argument("--images", type=int, default=None)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--n", type=int, default=10000, help="certify's estimation draws per image")
    p.add_argument("--chunks", default="1,4,16,64")
    p.add_argument(
        "--keep-malloc", action="store_true", help="workers without distributed's MALLOC_TRIM_THRESHOLD_=65536"
    )
    a = p.parse_args()
    global KEEP_MALLOC
    KEEP_MALLOC = a.keep_malloc
    print(f"machine: {os.cpu_count()} CPUs; mlsec_kernels {mk.__version__}; backends {mk.backends()['cpp']}")
    if a.what == "certify":
        bench_certify(a.images or 64, a.n, a.chunk)
    elif a.what == "sanitize":
        bench_sanitize(a.images or 4096, a.chunk)
    else:
        bench_overhead(a.images or 256, [int(v) for v in a.chunks.split(",")])


if __name__ == "__main__":
    main()
