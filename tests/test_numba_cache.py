"""Numba's on-disk cache holds across processes: a second process that calls every Numba
kernel compiles nothing, writes no cache file, and computes the same results.

It failed when a compiled kernel took another compiled function as an argument: that
argument's Numba type is tied to the process's dispatcher object, so no cache entry of one
process ever matched in the next (each process recompiled, about 4 s, and added entries),
and an index written by one process failed to load in the next ("underlying object has
vanished"). The kernels now take an int code for the kind of draw (philox.converter).

The first subprocess compiles every kernel, the whole cost of this test: about 80 s of CPU
time (half of it the output kernel's float32 and float64 builds; 5 min of wall time on a
2-core machine shared with other work); the second loads them (1 s of CPU, 3 s wall).
"""

import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from mlsec_kernels import _backend

ROOT = pathlib.Path(__file__).resolve().parents[1]

# Every public op on the Numba backend, small inputs (the serial builds) in each dtype it
# takes, and one noise call over the parallel threshold (the kernel the cache lost).
# Records numba:compile events around the calls: Numba fires one for each function it
# compiles, and none for one it loads from the cache.
CALLS = textwrap.dedent(
    """
    import sys
    import numpy as np
    from numba.core import event
    import mlsec_kernels as mk
    from mlsec_kernels import output, rng, smoothing
    from mlsec_kernels._constants import PARALLEL_MIN

    B = "numba"
    g = np.random.default_rng(0)
    res = {}
    with event.install_recorder("numba:compile") as rec:
        for t in (np.float32, np.float64):
            x = g.random((3, 2, 5, 6)).astype(t)
            x0, gr = g.random(x.shape).astype(t), g.standard_normal(x.shape).astype(t)
            p = g.dirichlet(np.ones(7), 4).astype(t)
            n = t.__name__
            res[f"fgsm {n}"] = mk.fgsm(x, gr, 0.1, backend=B)
            for norm in ("inf", 1, 2):
                res[f"project {norm} {n}"] = mk.project(gr, 0.5, norm=norm, backend=B)
                res[f"pgd_step {norm} {n}"] = mk.pgd_step(x, x0, gr, 0.05, 0.1, norm=norm, backend=B)
                res[f"random_start {norm} {n}"] = mk.random_start(x, 0.1, norm=norm, seed=1, backend=B)
            res[f"uniform {n}"] = rng.uniform(13, seed=1, dtype=t, backend=B)
            res[f"normal {n}"] = rng.normal(13, seed=1, dtype=t, backend=B)
            res[f"bit_depth {n}"] = mk.bit_depth(x, 3, backend=B)
            res[f"median_filter {n}"] = mk.median_filter(x, 3, mode="mirror", backend=B)
            res[f"gaussian_noise {n}"] = mk.gaussian_noise(x, 0.1, seed=1, backend=B)
            res[f"uniform_noise {n}"] = mk.uniform_noise(x, 0.1, seed=1, backend=B)
            for interp in ("nearest", "bilinear"):
                res[f"random_resize_pad {interp} {n}"] = mk.random_resize_pad(
                    x, 8, seed=1, interpolation=interp, backend=B
                )
            res[f"pixel_deflection {n}"] = mk.pixel_deflection(x, 5, 2, seed=1, backend=B)
            guard = output.Guard(
                [
                    output.ReverseSigmoid(),
                    output.GaussianNoise(0.01, seed=1),
                    output.Round(3),
                    output.HighConfidence(0.1),
                    output.TopK(3),
                    output.ClassLabels(),
                ]
            )
            res[f"output {n}"] = guard(p, backend=B)
            model = lambda z: z.reshape(len(z), -1)[:, :3] * [1.0, 2.0, 0.5]  # logits
            res[f"certify {n}"] = np.array(smoothing.predict(model, x[:1], 0.1, 20, seed=1, backend=B))
        u8 = (g.random((2, 6, 6, 3)) * 255).astype(np.uint8)
        res["bit_depth uint8"] = mk.bit_depth(u8, 3, backend=B)
        res["median_filter uint8"] = mk.median_filter(u8, 3, layout="NHWC", backend=B)
        for v in (u8, u8.astype(np.float32) / 255):
            res[f"non_local_means {v.dtype}"] = mk.non_local_means(v, h=0.1, layout="NHWC", backend=B)
        res["random_raw"] = rng.random_raw(13, seed=1, backend=B)
        labels = lambda z: np.zeros(len(z), np.int64)
        res["certify labels"] = np.array(smoothing.predict(labels, x[:1], 0.1, 20, num_classes=3, seed=1, backend=B))
        big = np.zeros((2, PARALLEL_MIN // 2 + 1), np.float32)
        res["gaussian_noise parallel"] = mk.gaussian_noise(big, 1.0, seed=1, backend=B)
    np.savez(sys.argv[1], **res)
    print(len(rec.buffer) // 2)  # a start and an end event per compile
    """
)


def _run(tmp_path, env, name):
    out = tmp_path / f"{name}.npz"
    r = subprocess.run(
        [sys.executable, "-c", CALLS, str(out)], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return int(r.stdout.split()[-1]), dict(np.load(out))


def _cache_files(d):
    return {p.relative_to(d): p.stat().st_size for p in d.rglob("*.nb[ic]")}


@pytest.mark.skipif(not _backend.available("numba"), reason="numba is not installed")
def test_second_process_compiles_nothing(tmp_path):
    cache = tmp_path / "cache"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), MLSEC_BACKEND="auto")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    compiled, first = _run(tmp_path, env, "first")
    assert compiled > 0  # the cache started empty: the check below sees real compiles
    files = _cache_files(cache)
    assert files

    compiled, second = _run(tmp_path, env, "second")
    assert compiled == 0, f"the second process compiled {compiled} functions"
    assert _cache_files(cache) == files
    assert first.keys() == second.keys()
    for k in first:
        np.testing.assert_array_equal(second[k], first[k], err_msg=k)
