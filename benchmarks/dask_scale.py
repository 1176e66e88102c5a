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

import dask.array as da
import numpy as np
from distributed import Client, LocalCluster, wait

import mlsec_kernels as mk
import mlsec_kernels.dask as mkd

SHAPE = (3, 224, 224)  # one image, float32 (602 KB)
D = int(np.prod(SHAPE))


def image_block(n, start, seed=1):
    """Images start .. start+n-1 of the synthetic dataset: uniform [0, 1) from the stream."""
    return mk.rng.uniform((n, *SHAPE), seed=seed, offset=start * D)


def _source_block(block_info=None):
    loc = block_info[None]["array-location"][0]
    return image_block(loc[1] - loc[0], loc[0])


def dataset(n, chunk):
    """A lazy (n, 3, 224, 224) float32 dask array whose blocks are generated where they run."""
    chunks = (tuple(min(chunk, n - i) for i in range(0, n, chunk)), *((s,) for s in SHAPE))
    return da.map_blocks(_source_block, chunks=chunks, dtype=np.float32, meta=np.empty((0,) * 4, np.float32))


def sanitize_block(x, start):
    """The in-memory pipeline of one batch: noise, then a 3x3 median, reduced to a sum."""
    y = mk.gaussian_noise(x, 0.05, seed=7, clip=(0.0, 1.0), sample_start=start)
    return float(mk.median_filter(y, 3).sum(dtype=np.float64))


def sanitize_lazy(x):
    y = mkd.median_filter(mkd.gaussian_noise(x, 0.05, seed=7, clip=(0.0, 1.0)), 3)
    return y.sum(dtype=np.float64)


def _cluster(workers):
    c = LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
    return c, Client(c)


def _timed(fn):
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def bench_sanitize(n, chunk):
    gib = n * D * 4 / 2**30
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
    w = np.random.default_rng(0).standard_normal((D, k)).astype(np.float32) / np.sqrt(D)
    return lambda b: b.reshape(len(b), -1) @ w


def linear_factory():
    return _linear_factory()


def bench_certify(n, n_noise, chunk):
    kw = dict(sigma=0.25, n0=100, n=n_noise, batch_size=200)
    x = image_block(n, 0)
    print(f"certify: {n} images of {SHAPE}, n0=100, n={n_noise}, batch 200, linear model {D}x10, chunks of {chunk}")
    t, ref = _timed(lambda: mk.smoothing.certify(linear_factory(), x, seed=3, progress=False, **kw))
    print(f"  smoothing.certify, 1 process: {t:6.1f} s  {n / t:6.2f} images/s")
    for w in (1, 2):
        cluster, client = _cluster(w)
        try:
            lazy = da.from_array(x, chunks=(chunk, *SHAPE))
            t, got = _timed(lambda: mkd.certify(linear_factory, lazy, seed=3, progress=False, **kw))
        finally:
            client.close()
            cluster.close()
        same = "same certificates" if all(np.array_equal(a, b) for a, b in zip(got, ref)) else "DIFFERENT"
        print(f"  LocalCluster {w} worker(s):   {t:6.1f} s  {n / t:6.2f} images/s  ({same})")


def bench_overhead(n, chunks):
    """Per block: the worker's compute (the in-memory pipeline, timed in this process) against
    the wall time per block on a 1-worker cluster; the difference is the scheduler's share."""
    cluster, client = _cluster(1)
    try:
        print(f"overhead: gaussian_noise + median_filter 3x3, {n} images, 1 worker")
        print("  chunk (images)  blocks  compute/block  wall/block  overhead/block  overhead/compute")
        for c in chunks:
            blocks = -(-n // c)
            x = image_block(c, 0)
            sanitize_block(x, 0)  # warm
            t0 = time.perf_counter()
            for _ in range(3):
                sanitize_block(x, 0)
            compute = (time.perf_counter() - t0) / 3
            gen = _timed(lambda: image_block(c, 0))[0]
            lazy = sanitize_lazy(dataset(n, c))
            wall, _ = _timed(lambda: wait(client.compute(lazy)))
            per = wall / blocks
            over = per - compute - gen
            print(
                f"  {c:14d}  {blocks:6d}  {compute * 1e3:10.2f} ms  {per * 1e3:7.2f} ms  "
                f"{over * 1e3:11.2f} ms  {100 * over / (compute + gen):12.1f} %"
            )
    finally:
        client.close()
        cluster.close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["certify", "sanitize", "overhead"])
    p.add_argument("--images", type=int, default=None)
    p.add_argument("--chunk", type=int, default=64)
    p.add_argument("--n", type=int, default=2000, help="certify's estimation draws per image")
    p.add_argument("--chunks", default="1,4,16,64")
    a = p.parse_args()
    print(f"machine: {os.cpu_count()} CPUs; mlsec_kernels {mk.__version__}; backends {mk.backends()['cpp']}")
    if a.what == "certify":
        bench_certify(a.images or 32, a.n, a.chunk)
    elif a.what == "sanitize":
        bench_sanitize(a.images or 4096, a.chunk)
    else:
        bench_overhead(a.images or 256, [int(v) for v in a.chunks.split(",")])


if __name__ == "__main__":
    main()
