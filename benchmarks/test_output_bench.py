"""Output defences: latency on one (1, 1000) float32 row (an inference server's call, Python
layer included) and throughput on (4096, 1000) with --bench-full, against the copy floor
and ART's formulas as NumPy (the ``mlsec-kernels bench`` cases); a Guard chaining four of
them, on one row; DAWN's watermark hashing against a per-query ``hmac`` loop; PRADA's
observe rate.

``OMP_NUM_THREADS=2 ... -k "output and not latency"`` for the batch throughput alone. A
repeated row trains the branch predictor (top-k's candidate blocks): distinct rows cost a
little more.
"""

import hashlib
import hmac

import numpy as np

from mlsec_kernels import output as O

CLI_OPS = ("output",)


def test_case(cli_call, measure):
    measure(*cli_call)


def test_guard_latency(workspace, measure):
    row = workspace("host").array("p", (1, 1000))  # the row the bench's latency cases use
    g = O.Guard([O.ReverseSigmoid(beta=0.8, gamma=0.2), O.GaussianNoise(scale=0.01), O.Round(3), O.TopK(5)])
    measure(lambda: g(row), "output.Guard-latency")


def _queries(n):
    rng = np.random.default_rng(2)
    return rng.random((n, 3, 32, 32), dtype=np.float32), rng.dirichlet(np.ones(10), size=n).astype(np.float32)


def test_watermark_apply(measure):
    queries, scores = _queries(256)
    wm = O.Watermark(b"owner key", rate=0.005)
    measure(lambda: wm.apply(queries, scores), "watermark-256x3x32x32", queries.nbytes)


def test_watermark_python_hmac_loop(measure):
    queries, _ = _queries(256)
    measure(
        lambda: [hmac.new(b"owner key", q.tobytes(), hashlib.sha256).digest() for q in queries],
        "watermark-256x3x32x32",
        queries.nbytes,
    )


def test_monitor_observe(full, measure):
    """100 queries of 3x32x32 a call against a stored set grown to its cap (10 classes)."""
    cap = 5000 if full else 500
    rng = np.random.default_rng(4)
    mon = O.ExtractionMonitor(max_set_size=cap)
    mon.observe("c", rng.random((cap, 3 * 32 * 32), dtype=np.float32), np.arange(cap) % 10)
    batch, labels = rng.random((100, 3 * 32 * 32), dtype=np.float32), np.arange(100) % 10
    measure(lambda: mon.observe("c", batch, labels), f"monitor-observe100-set{cap}")
