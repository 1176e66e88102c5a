"""The benchmark suite: pytest-benchmark over mlsec_kernels' backends and the peers a user
would write without it (NumPy, PyTorch, OpenCV, SciPy, ART), side by side per group.

    PYTHONPATH=src python -m pytest benchmarks --benchmark-disable -q     # smoke: each call once
    PYTHONPATH=src python -m pytest benchmarks -k fgsm                    # timings, small sizes
    PYTHONPATH=src python -m pytest benchmarks --bench-full               # the full sizes

Outside ``testpaths``: ``python -m pytest`` (the tests) never collects this folder.

A module that sets ``CLI_OPS`` gets the cases of ``mlsec-kernels bench`` for those ops
(``mlsec_kernels.cli.bench``, so both report the same calls) as ``cli_case`` x ``contender``:
each backend, each peer and the copy floor, one benchmark group per case.
"""

import math

import pytest

from mlsec_kernels.cli import _bench_peers as peers
from mlsec_kernels.cli import bench

# One image of a (64, 3, 224, 224) batch, 64 rows of (4096, 1000): every call runs, in seconds.
SMOKE_SCALE = 1 / 64
CUDA = pytest.mark.cuda


def pytest_addoption(parser):
    parser.addoption(
        "--bench-full",
        action="store_true",
        help="mlsec_kernels benchmarks: the full sizes ((64, 3, 224, 224) batches, certify's "
        "n=100,000, 128-image attacks) instead of the smoke sizes",
    )


def _full(config):
    return config.getoption("--bench-full")


@pytest.fixture(scope="session")
def full(request):
    """True with --bench-full: each test picks its full size or its smoke size."""
    return _full(request.config)


def case_id(case):
    # median_filter's three sizes share op and shape
    return case.id + (f"-size{case.kw['size']}" if "size" in case.kw else "")


def _contenders(case):
    """(kind, name, side) of everything timed on `case`, as pytest params."""
    out = [
        pytest.param(("backend", b, bench.SIDES[b]), id=b, marks=[CUDA] if b == "cuda" else [])
        for b in ("cpp", "numba", "cuda")
    ]
    for side in ("host", "device"):
        marks = [CUDA] if side == "device" else []
        for p in case.peers:
            if side == "host" or p not in peers.HOST_ONLY:
                name = "cupy" if (p, side) == ("numpy", "device") else p  # the same expression, on the GPU
                out.append(
                    pytest.param(("peer", p, side), id=name if side == "host" else f"{name}-device", marks=marks)
                )
        out.append(pytest.param(("floor", "copy", side), id="copy" if side == "host" else "copy-device", marks=marks))
    return out


def pytest_generate_tests(metafunc):
    ops = getattr(metafunc.module, "CLI_OPS", None)
    if ops is None or "cli_case" not in metafunc.fixturenames:
        return
    scale = 1.0 if _full(metafunc.config) else SMOKE_SCALE
    params = [
        pytest.param(c, *p.values, id=f"{case_id(c)}-{p.id}", marks=p.marks)
        for c in bench.select(bench.cases(size_scale=scale), ops)
        for p in _contenders(c)
    ]
    metafunc.parametrize("cli_case, contender", params)


@pytest.fixture(scope="session")
def cli_cases(full):
    """op -> (case, group): the first ``mlsec-kernels bench`` case of each op at this run's
    size, and its group, which benchmarks beyond the bench's join to stand next to its
    backends and peers."""
    cases = {}
    for c in bench.cases(size_scale=1.0 if full else SMOKE_SCALE):
        cases.setdefault(c.op, (c, case_id(c)))
    return cases


_workspaces = {}


@pytest.fixture
def workspace():
    """The arrays of a side ("host", "device"), made once per session; skips a side this
    machine lacks."""

    def get(side):
        if side == "device":
            ok, why = bench.usable_backends()
            if "cuda" not in ok:
                pytest.skip(f"no device arrays here: {why.get('cuda')}")
        if side not in _workspaces:
            _workspaces[side] = bench.Workspace(side)
        return _workspaces[side]

    return get


@pytest.fixture
def need_backend():
    """Skips unless this machine runs the backend (the C++ extension may be unbuilt)."""

    def check(name):
        ok, why = bench.usable_backends()
        if name not in ok:
            pytest.skip(f"backend {name!r} unavailable: {why[name]}")

    return check


@pytest.fixture
def cli_call(cli_case, contender, workspace, need_backend):
    """(callable, group, bytes moved) for one contender of one ``mlsec-kernels bench`` case.
    Request it before ``measure``: a skip here then comes before the benchmark fixture
    exists, which pytest-benchmark would otherwise warn about as unused."""
    kind, name, side = contender
    case = cli_case
    op = bench.op_function(case.op)
    if kind == "backend":
        need_backend(name)
    if op is None and kind != "floor":
        pytest.skip(f"mlsec_kernels.{case.op} is not in this build")
    ws = workspace(side)
    a, out = ws.inputs(case), ws.array("out", case.shape, case.dtype)
    nbytes = case.nbytes()
    if kind == "backend":
        fn = lambda: bench.call_op(case, op, a, out, name)
    elif kind == "peer":
        try:
            fn = peers.make(name, case.op, case.kw, a, out, ws.xp)
        except peers.Unavailable as e:
            pytest.skip(str(e))
    else:
        fn, nbytes = ws.copy_fn(case.shape), 2 * 4 * math.prod(case.shape)  # read once, written once
    if side == "device":  # the kernel's time, not its launch's
        return (lambda: (fn(), ws.sync())), case_id(case), nbytes
    return fn, case_id(case), nbytes


@pytest.fixture
def measure(benchmark):
    """``measure(fn, group, nbytes=None)``: times ``fn()`` in `group`, after one warm-up
    call (Numba and torch.compile compile, pages get touched) that stays out of the
    timings; records bytes and GB/s in extra_info. With --benchmark-disable, one call."""

    def run(fn, group, nbytes=None):
        if benchmark.enabled:
            fn()
        benchmark.group = group
        result = benchmark(fn)
        if benchmark.enabled and nbytes:
            benchmark.extra_info.update(bytes=nbytes, GBps=nbytes / benchmark.stats.stats.median / 1e9)
        return result

    return run
