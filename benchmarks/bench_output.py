"""Output defences: latency on one (1, 1000) float32 row (an inference server's call,
Python layer included), throughput on (4096, 1000) against a copy (the bandwidth floor:
p read once, written once) and the NumPy/ART forms, DAWN hashing against a per-query
hmac loop, PRADA's observe rate.

    PYTHONPATH=src python -m pytest benchmarks/bench_output.py --benchmark-columns=min,median,ops -q
    OMP_NUM_THREADS=2 PYTHONPATH=src python -m pytest benchmarks/bench_output.py -k throughput ...
"""
import hashlib
import hmac

import numpy as np
import pytest

from mlsec_kernels import output as O

ROW = np.random.default_rng(0).dirichlet(np.ones(1000), size=1).astype(np.float32)
BATCH = np.random.default_rng(1).dirichlet(np.ones(1000), size=4096).astype(np.float32)
OUT = np.empty_like(BATCH)


def art_reverse_sigmoid(p, beta=1.0, gamma=0.1):
    pc = np.clip(p, 1e-9, 1 - 1e-9)
    r = beta * (1.0 / (1.0 + np.exp(gamma * np.log((1.0 - pc) / pc))) - 0.5)
    q = np.clip(p - r, 0.0, 1.0)
    return q / q.sum(axis=1, keepdims=True)


def art_gaussian_noise(p, scale=0.2):
    q = p + np.random.normal(0.0, scale, size=p.shape)
    q[q < 0] = 0.0
    return q / q.sum(axis=1, keepdims=True)


OPS = {
    "reverse_sigmoid": lambda p, o: O.reverse_sigmoid(p, out=o),
    "gaussian_noise": lambda p, o: O.gaussian_noise(p, scale=0.2, out=o),
    "round": lambda p, o: O.round(p, decimals=3, out=o),
    "high_confidence": lambda p, o: O.high_confidence(p, cutoff=0.25, out=o),
    "top_k": lambda p, o: O.top_k(p, 5, out=o),
    "class_labels": lambda p, o: O.class_labels(p, out=o),
}
NUMPY = {
    "reverse_sigmoid": lambda p: art_reverse_sigmoid(p),
    "gaussian_noise": lambda p: art_gaussian_noise(p),
    "round": lambda p: np.round(p, 3),
    "high_confidence": lambda p: np.where(p < 0.25, 0, p),
    "top_k": lambda p: np.take_along_axis(p, np.argsort(-p, axis=1)[:, :5], axis=1),
    "class_labels": lambda p: np.eye(p.shape[1], dtype=p.dtype)[np.argmax(p, axis=1)],
}


@pytest.mark.parametrize("op", OPS)
def test_latency(benchmark, op):
    benchmark.group = "latency (1, 1000) float32"
    benchmark(OPS[op], ROW, None)


@pytest.mark.parametrize("op", NUMPY)
def test_latency_numpy(benchmark, op):
    benchmark.group = "latency (1, 1000) float32"
    benchmark(NUMPY[op], ROW)


def test_latency_guard(benchmark):
    benchmark.group = "latency (1, 1000) float32"
    g = O.Guard([O.ReverseSigmoid(beta=0.8, gamma=0.2), O.GaussianNoise(scale=0.01), O.Round(3), O.TopK(5)])
    benchmark(g, ROW)


def test_throughput_copy_floor(benchmark):
    benchmark.group = "throughput (4096, 1000) float32"
    benchmark(np.copyto, OUT, BATCH)


@pytest.mark.parametrize("op", OPS)
def test_throughput(benchmark, op):
    benchmark.group = "throughput (4096, 1000) float32"
    benchmark(OPS[op], BATCH, OUT)


@pytest.mark.parametrize("op", ["reverse_sigmoid", "gaussian_noise", "round"])
def test_throughput_numpy(benchmark, op):
    benchmark.group = "throughput (4096, 1000) float32"
    benchmark.pedantic(NUMPY[op], (BATCH,), rounds=5)


QUERIES = np.random.default_rng(2).random((256, 3, 32, 32)).astype(np.float32)
SCORES = np.random.default_rng(3).dirichlet(np.ones(10), size=256).astype(np.float32)


def test_watermark_apply(benchmark):
    benchmark.group = "watermark (256, 3, 32, 32)"
    wm = O.Watermark(b"owner key", rate=0.005)
    benchmark(wm.apply, QUERIES, SCORES)


def test_watermark_python_hmac_loop(benchmark):
    benchmark.group = "watermark (256, 3, 32, 32)"
    benchmark(lambda: [hmac.new(b"owner key", q.tobytes(), hashlib.sha256).digest() for q in QUERIES])


def test_monitor_observe(benchmark):
    """100 queries of 3x32x32 per call against a growing set of ~5,000 (10 classes)."""
    benchmark.group = "monitor"
    rng = np.random.default_rng(4)
    mon = O.ExtractionMonitor(max_set_size=5000)
    warm = rng.random((5000, 3 * 32 * 32)).astype(np.float32)
    mon.observe("c", warm, np.arange(5000) % 10)
    batch = rng.random((100, 3 * 32 * 32)).astype(np.float32)
    labels = np.arange(100) % 10
    benchmark.pedantic(mon.observe, ("c", batch, labels), rounds=10)
