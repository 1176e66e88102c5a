"""pytest-benchmark suites over the cases of ``mlsec-kernels bench`` (mlsec_kernels/bench.py).

Run from the repository root (they are outside ``testpaths``, so plain ``pytest`` skips them):

    PYTHONPATH=src python -m pytest benchmarks --benchmark-only

Each case is one benchmark group: the backends and the peers measured on the same arrays.
``MLSEC_BENCH_SIZE_SCALE`` (default 1) scales the batch axis, for a fast smoke run.
An op missing from this build, a backend or a peer that cannot run here: skipped, with why.
"""
import math
import os

import pytest

from mlsec_kernels import _bench_peers as peers
from mlsec_kernels import bench

CASES = bench.cases(size_scale=float(os.environ.get("MLSEC_BENCH_SIZE_SCALE", "1")))
IDS = [c.id for c in CASES]
_workspaces = {}


def _workspace(side):
    if side not in _workspaces:
        _workspaces[side] = bench.Workspace(side)
    return _workspaces[side]


def _measure(benchmark, case, ws, fn):
    fn()  # warm-up: compilation (Numba, torch.compile) stays out of the timings
    ws.sync()
    benchmark.group = case.id
    if ws.side == "device":
        benchmark(lambda: (fn(), ws.sync()))
    else:
        benchmark(fn)
    median_s = benchmark.stats.stats.median
    benchmark.extra_info.update(bytes=case.nbytes(), GBps=case.nbytes() / median_s / 1e9)


def _side_or_skip(side):
    ok, why = bench.usable_backends()
    if side == "device" and "cuda" not in ok:
        pytest.skip(f"no device arrays here: {why.get('cuda')}")


@pytest.mark.parametrize("backend", ["cpp", "numba", pytest.param("cuda", marks=pytest.mark.cuda)])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_op(benchmark, case, backend):
    ok, why = bench.usable_backends()
    if backend not in ok:
        pytest.skip(f"backend {backend!r} unavailable: {why[backend]}")
    fn = bench.op_function(case.op)
    if fn is None:
        pytest.skip(f"mlsec_kernels.{case.op} is not in this build")
    ws = _workspace(bench.SIDES[backend])
    a, out = ws.inputs(case), ws.array("out", case.shape)
    _measure(benchmark, case, ws, lambda: bench.call_op(case, fn, a, out, backend))


PEER_CASES = [pytest.param(c, p, id=f"{c.id}-{p}") for c in CASES for p in c.peers]


@pytest.mark.parametrize("side", ["host", pytest.param("device", marks=pytest.mark.cuda)])
@pytest.mark.parametrize("case, peer", PEER_CASES)
def test_peer(benchmark, case, peer, side):
    if bench.op_function(case.op) is None:
        pytest.skip(f"mlsec_kernels.{case.op} is not in this build (nothing to compare)")
    _side_or_skip(side)
    ws = _workspace(side)
    a, out = ws.inputs(case), ws.array("out", case.shape)
    try:
        fn = peers.make(peer, case.op, case.kw, a, out, ws.xp)
    except peers.Unavailable as e:
        pytest.skip(str(e))
    _measure(benchmark, case, ws, fn)


@pytest.mark.parametrize("side", ["host", pytest.param("device", marks=pytest.mark.cuda)])
def test_copy_floor(benchmark, side):
    """The bandwidth floor every case is compared with: a parallel copy of one batch."""
    _side_or_skip(side)
    ws = _workspace(side)
    shape = CASES[0].shape
    nbytes = 2 * 4 * math.prod(shape)  # read once, written once
    fn = ws.copy_fn(shape)
    benchmark.group = "copy floor"
    fn()
    ws.sync()
    benchmark(lambda: (fn(), ws.sync()))
    benchmark.extra_info.update(bytes=nbytes, GBps=nbytes / benchmark.stats.stats.median / 1e9)
