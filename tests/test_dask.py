"""mlsec_kernels.dask's ops on a real distributed.LocalCluster (2 worker processes,
loopback): every op under several chunkings equals the in-memory call bit for bit, and bad
input gets a clear error. Certification and attacks: test_dask_cluster.py."""

import os
import subprocess
import sys

import numpy as np
import pytest

import mlsec_kernels as mk

from .dask_cluster import REASON, cluster_client, data, lazy
from .helpers import skip_unless

da = pytest.importorskip("dask.array", reason=REASON)
mkd = pytest.importorskip("mlsec_kernels.dask", reason=REASON)
client = pytest.fixture(scope="module")(cluster_client)
_SRC = os.path.dirname(os.path.dirname(mk.__file__))


@pytest.fixture(params=["cpp", "numba"])
def cpu(request):
    skip_unless(request.param)
    return request.param


def _compute(client, lazy, backend):
    """C++ blocks on the cluster; Numba ones in this process, where the reference call
    compiled the kernels (each worker process would compile them again, seconds each)."""
    return client.compute(lazy).result() if backend == "cpp" else lazy.compute(scheduler="sync")


def _check(client, fn, args, lazy_args, chunkings, backend="cpp", **kw):
    """fn(*args) in memory against mkd's fn on each chunking (computed on the cluster)."""
    mod, _, name = fn.rpartition(".")  # "output.x" names mlsec_kernels.output.x
    want, got_fn = (getattr(getattr(m, mod) if mod else m, name) for m in (mk, mkd))
    ref = want(*args, backend=backend, **kw)
    for ch in chunkings:
        lz = [lazy(a, ch) if i in lazy_args else a for i, a in enumerate(args)]
        out = got_fn(*lz, backend=backend, **kw)
        assert isinstance(out, da.Array)
        np.testing.assert_array_equal(_compute(client, out, backend), ref, err_msg=f"{fn} chunks={ch}")


BATCH = [(7, 3, 5, 6), (3, 3, 5, 6), ((2, 4, 1), 3, 5, 6)]  # one block, even, uneven
ANY = [(7, 3, 5, 6), (3, 1, 5, 6), ((2, 4, 1), (1, 2), (2, 3), (5, 1))]  # feature axes split too


def test_fgsm_bit_depth_any_chunking(client, cpu):
    x, g = data((7, 3, 5, 6)), data((7, 3, 5, 6), 1) - 0.5
    eps = np.linspace(0.01, 0.1, 7)
    _check(client, "fgsm", (x, g, 0.03), (0, 1), ANY, cpu)
    _check(client, "fgsm", (x, g, eps), (0, 1), ANY, cpu, targeted=True, clip=None)
    ref = mk.fgsm(x, g, eps)  # per-sample eps as a dask array with its own chunks
    np.testing.assert_array_equal(mkd.fgsm(lazy(x, (3, 3, 5, 6)), lazy(g, (2, 3, 5, 6)), lazy(eps, 4)).compute(), ref)
    _check(client, "bit_depth", (x, 3), (0,), ANY, cpu)
    _check(client, "bit_depth", (data((7, 3, 5, 6), 2, np.uint8), 5), (0,), ANY, cpu)


@pytest.mark.parametrize("norm", ["inf", 2, 1])
def test_pgd_step_project(client, cpu, norm):
    x0 = data((7, 3, 5, 6))
    x = np.clip(x0 + (data((7, 3, 5, 6), 1) - 0.5) * 0.1, 0, 1).astype(np.float32)
    g = data((7, 3, 5, 6), 2) - 0.5
    step, eps = np.full(7, 0.02), np.linspace(0.05, 0.5, 7)
    chunkings = ANY if norm == "inf" else BATCH
    _check(client, "pgd_step", (x, x0, g, step, eps), (0, 1, 2), chunkings, cpu, norm=norm)
    d = (data((7, 3, 5, 6), 3) - 0.5).astype(np.float32)
    lo, hi = -x0, 1 - x0
    _check(client, "project", (d, eps), (0,), chunkings, cpu, norm=norm)
    ref = mk.project(d, eps, norm=norm, lo=lo, hi=hi, backend=cpu)
    for ch in chunkings:
        got = mkd.project(lazy(d, ch), eps, norm=norm, lo=lazy(lo, ch), hi=lazy(hi, ch), backend=cpu)
        np.testing.assert_array_equal(_compute(client, got, cpu), ref)


# whole; uneven tiles; rows cut into pieces thinner than the window (dask merges those)
SPATIAL = [(5, 3, 17, 13), (2, 3, (6, 11), (4, 4, 5)), (5, (2, 1), (2, 1, 14), 13)]


@pytest.mark.parametrize("size", [3, (4, 5), 2, (1, 7), 19])
@pytest.mark.parametrize("mode", ["reflect", "mirror"])
def test_median_filter_spatial_chunks(client, size, mode):
    x = data((5, 3, 17, 13))
    _check(client, "median_filter", (x, size), (0,), SPATIAL, mode=mode)


def test_median_filter_layouts_dtypes_backends(client, cpu):
    x = data((4, 9, 11, 2), 1, np.uint8)  # NHWC
    _check(client, "median_filter", (x, 3), (0,), [(4, 9, 11, 2), (3, (4, 5), (6, 5), 1)], cpu, layout="NHWC")
    v = data((2, 3, 2, 10, 9), 2)  # NCHW video
    _check(client, "median_filter", (v, (3, 4)), (0,), [(2, 3, 2, 10, 9), (1, 2, 1, (3, 7), (5, 4))], cpu)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
@pytest.mark.parametrize("t,s", [(3, 5), (3, 7), (1, 3)])
def test_non_local_means_spatial_chunks(client, dtype, t, s):
    x = data((3, 2, 15, 14), 4, dtype)
    h = 0.3 if dtype == np.float32 else 20.0
    chunkings = [(3, 2, 15, 14), (2, 1, (7, 8), (5, 9)), (1, 2, 5, 4)]
    _check(client, "non_local_means", (x,), (0,), chunkings, h=h, template_size=t, search_size=s)


def test_non_local_means_numba_nhwc(client):
    skip_unless("numba")
    x = data((2, 12, 10, 3), 5)
    _check(
        client, "non_local_means", (x,), (0,), [(1, (5, 7), (6, 4), 2)], "numba", h=0.3, search_size=5, layout="NHWC"
    )


SCORES = [(9, 5), (4, 5), ((2, 6, 1), 5)]


def test_output_postprocessors(client, cpu):
    r = np.random.default_rng(6)
    p = r.dirichlet(np.ones(5), 9).astype(np.float32)
    _check(client, "output.reverse_sigmoid", (p,), (0,), SCORES, cpu, beta=0.7, gamma=0.2)
    _check(client, "output.round", (p,), (0,), SCORES, cpu, decimals=2)
    _check(client, "output.high_confidence", (p,), (0,), SCORES, cpu, cutoff=0.3)
    _check(client, "output.top_k", (p, 2), (0,), SCORES, cpu, one_hot=True)
    _check(client, "output.class_labels", (p,), (0,), SCORES, cpu)
    q = [r.dirichlet(np.ones(5), 9) for _ in range(2)]
    ref = mk.squeeze_score(p, *q)
    for ch in SCORES:
        got = mkd.squeeze_score(lazy(p, ch), *(lazy(v, ch) for v in q))
        np.testing.assert_array_equal(client.compute(got).result(), ref)


def test_random_ops_chunking_independent(client, cpu):
    x = data((7, 3, 5, 6))
    eps = np.linspace(0.01, 0.3, 7)
    for norm in ("inf", 2, 1):
        _check(client, "random_start", (x, eps), (0,), BATCH, cpu, norm=norm, seed=11)
    _check(client, "gaussian_noise", (x, eps), (0,), BATCH, cpu, seed=12, clip=(0, 1))
    _check(client, "uniform_noise", (x, 0.2), (0,), BATCH, cpu, seed=13)
    _check(client, "pixel_deflection", (x, 4, 2), (0,), BATCH, cpu, seed=14)
    nhwc = [(c, 5, 6, 3) for c, *_ in BATCH]
    _check(client, "pixel_deflection", (x.transpose(0, 2, 3, 1).copy(), 3, 1), (0,), nhwc, cpu, seed=2, layout="NHWC")
    for per in (True, False):
        _check(client, "random_resize_pad", (x, 9), (0,), BATCH, cpu, seed=15, per_sample=per, min_size=6)
    p = np.random.default_rng(7).dirichlet(np.ones(5), 9)
    _check(client, "output.gaussian_noise", (p,), (0,), SCORES, cpu, scale=0.1, seed=16)


def test_random_ops_generator_and_params(client):
    x = data((7, 3, 5, 6))
    g1, g2 = mk.Generator(5, substream=3), mk.Generator(5, substream=3)
    noisy = mkd.gaussian_noise(lazy(x, (3, 3, 5, 6)), 0.1, seed=g1)  # one substream, taken now
    assert g1.position == 4
    np.testing.assert_array_equal(noisy.compute(), mk.gaussian_noise(x, 0.1, seed=g2))
    imgs, params = mkd.random_resize_pad(lazy(x, ((2, 5), 3, 5, 6)), 8, seed=4, return_params=True)
    ref_i, ref_p = mk.random_resize_pad(x, 8, seed=4, return_params=True)
    got_i, got_p = client.compute([imgs, params], sync=True)
    np.testing.assert_array_equal(got_i, ref_i)
    np.testing.assert_array_equal(got_p, ref_p)
    # the draws alone (no images resampled for them): NHWC, min_size, one draw for the batch
    xh = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    for kw in (dict(layout="NHWC"), dict(min_size=2, per_sample=False)):
        xin = xh if kw.get("layout") == "NHWC" else x
        _, params = mkd.random_resize_pad(lazy(xin, ((4, 3),) + xin.shape[1:]), 9, seed=6, return_params=True, **kw)
        np.testing.assert_array_equal(
            params.compute(), mk.random_resize_pad(xin, 9, seed=6, return_params=True, **kw)[1]
        )
    # seed=None: one secret seed for the lazy array, so its blocks agree and it recomputes the same
    a = mkd.uniform_noise(lazy(x, (3, 3, 5, 6)), 0.5, seed=None)
    np.testing.assert_array_equal(a.compute(), a.compute())
    assert not np.array_equal(a.compute(), mkd.uniform_noise(lazy(x, (3, 3, 5, 6)), 0.5).compute())


def test_clear_errors():
    x = np.zeros((4, 3, 5, 5), np.float32)
    lz = lazy(x, (2, 3, 5, 5))
    with pytest.raises(TypeError, match="x must be a dask.array.Array"):
        mkd.median_filter(x, 3)
    with pytest.raises(TypeError, match="grad must be a dask.array.Array"):
        mkd.fgsm(lz, x, 0.1)
    with pytest.raises(TypeError, match="p must be a dask"):
        mkd.output.round(x[:, :, 0, 0])
    split = lazy(x, (2, 1, 5, 5))
    with pytest.raises(ValueError, match=r"x must be one chunk along axis 1 .*rechunk\(\{1: -1\}\)"):
        mkd.pgd_step(split, split, split, 0.1, 0.1, norm=2)
    with pytest.raises(ValueError, match=r"delta must be one chunk along axis 1, 2 "):
        mkd.project(lazy(x, (2, 1, 2, 5)), 0.1, norm=1)
    with pytest.raises(ValueError, match="x must be one chunk along axis 1"):
        mkd.random_start(split, 0.1, seed=1)
    with pytest.raises(ValueError, match=r"p must be one chunk along axis 1 .*rechunk"):
        mkd.output.top_k(lazy(x[:, :, 0, 0], (2, 1)), 1)
    with pytest.raises(TypeError, match="out= is not supported on dask arrays"):
        mkd.bit_depth(lz, 3, out=lz)
    with pytest.raises(ValueError, match="size must be at least 1"):  # the op's own checks, at graph-build time
        mkd.median_filter(lz, 0)
    with pytest.raises(ValueError, match="eps must be a scalar or have one value per sample"):
        mkd.fgsm(lz, lz, np.ones(3))
    with pytest.raises(TypeError, match="model_factory must be a callable"):
        mkd.certify(None, lz, sigma=0.5, n0=10, n=100, seed=1)


_NO_CLIENT = """
import sys, mlsec_kernels
assert 'dask' not in sys.modules and 'distributed' not in sys.modules
import dask.array as da, mlsec_kernels.dask as mkd
try:
    mkd.certify(lambda: None, da.zeros((2, 3)), sigma=0.5, n0=1, n=1, seed=1, progress=False)
except RuntimeError as e:
    assert "found no client" in str(e), e
else:
    raise SystemExit("certify ran without a client")
"""


def test_import_leaves_dask_alone_and_certify_needs_a_client():
    subprocess.run([sys.executable, "-c", _NO_CLIENT], check=True, env=dict(os.environ, PYTHONPATH=_SRC))


def test_every_array_op_has_a_dask_form_with_its_signature():
    # a new op in mk (or in mk.output) must get its blockwise form, with the same keywords
    # (out= aside: a lazy result has none; sample_start= is each block's own)
    import inspect

    not_ops = {"backends", "Generator", "SqueezeDetector", "attacks", "output", "rng", "smoothing", "transforms"}
    pairs = [(getattr(mk, n), getattr(mkd, n, None), n) for n in mk.__all__ if n not in not_ops]
    pairs += [(getattr(mk.output, n), getattr(mkd.output, n, None), f"output.{n}") for n in mkd.output.__all__]
    # the post-processors (shapiro_wilk is the monitor's statistic, not a batch op)
    post = [n for n in mk.output.__all__ if n[0].islower() and n != "shapiro_wilk"]
    assert sorted(post) == sorted(mkd.output.__all__), "mk.output's functions and mkd.output's differ"
    for ours, lazy_op, name in pairs:
        assert lazy_op is not None, f"mlsec_kernels.dask has no {name}"
        want = [p for p in inspect.signature(ours).parameters if p not in ("out", "sample_start")]
        got = [p for p in inspect.signature(lazy_op).parameters if p not in ("out", "sample_start")]
        assert got == want, f"{name}: {got} != {want}"
