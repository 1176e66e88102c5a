"""Randomised defences on (64, 3, 224, 224) float32 with --bench-full, ``out=`` given.

- gaussian_noise (clip to [0, 1]) and pixel_deflection (200 deflections, window 10): the
  ``mlsec-kernels bench`` cases (backends, NumPy and PyTorch peers, copy floor), plus
  pixel_deflection in place and Prakash et al.'s Python loop, in the same group;
- random_resize_pad 224 -> [224, 248) -> 248 bilinear (an output larger than its input, so
  not a bench case) against OpenCV per plane and torch ``interpolate`` per sample;
- smoothing.certify on a 784 -> 10 linear model: its time, and in extra_info the shares of
  the model's calls, the noise kernel and everything else.

On a shared machine, run with ``OMP_WAIT_POLICY=passive``: OpenMP threads left spinning by
one contender otherwise steal the cores from the next (sub-millisecond calls read 15-50x
slower), and ``--benchmark-timer time.process_time`` for CPU seconds instead of wall-clock.
"""

import random
import time

import numpy as np
import pytest

import mlsec_kernels as mk
from mlsec_kernels import smoothing

CLI_OPS = ("gaussian_noise", "pixel_deflection")


def test_case(cli_call, measure):
    measure(*cli_call)


def prakash_loop(img, deflections, window):
    """Prakash et al.'s pixel_deflection_without_map (their repository), on one HWC image."""
    img = np.copy(img)
    H, W, C = img.shape
    while deflections > 0:
        for c in range(C):
            x, y = random.randint(0, H - 1), random.randint(0, W - 1)
            while True:
                a, b = random.randint(-1 * window, window), random.randint(-1 * window, window)
                if x + a < H and x + a > 0 and y + b < W and y + b > 0:
                    break
            img[x, y, c] = img[x + a, y + b, c]
        deflections -= 1
    return img


@pytest.mark.parametrize("who", ["cpp-in-place", "prakash-loop"])
def test_pixel_deflection(who, cli_cases, workspace, need_backend, measure):
    case, group = cli_cases["pixel_deflection"]
    x = workspace("host").inputs(case)["x"]
    d, w = case.kw["deflections"], case.kw["window"]
    if who == "cpp-in-place":  # no copy of the batch: the draws and moves alone
        need_backend("cpp")
        buf = x.copy()
        fn = lambda: mk.pixel_deflection(buf, d, w, seed=1, out=buf, backend="cpp")
    else:
        images = [np.ascontiguousarray(im.transpose(1, 2, 0)) for im in x]
        fn = lambda: [prakash_loop(im, d, w) for im in images]
    measure(fn, group)


RESIZE = (224, 248)  # min_size, out_size: Xie et al.'s 299 -> [299, 331) at ImageNet's 224


@pytest.mark.parametrize("who", ["cpp", "numba", "opencv", "torch", "copy"])
def test_random_resize_pad(who, full, need_backend, measure):
    lo, hi = RESIZE
    n, ch = (64 if full else 1), 3
    x = np.random.default_rng(0).random((n, ch, lo, lo), dtype=np.float32)
    out = np.full((n, ch, hi, hi), 0.5, np.float32)
    params = mk.transforms.resize_pad_params(n, lo, hi, 5, 0)
    if who in ("cpp", "numba"):
        need_backend(who)
        fn = lambda: mk.random_resize_pad(x, hi, min_size=lo, seed=5, interpolation="bilinear", out=out, backend=who)
    elif who == "opencv":
        cv2 = pytest.importorskip("cv2", reason="OpenCV (cv2) is not installed")

        def fn():
            out[...] = 0
            for r, (s, t, left) in enumerate(params):
                for k in range(ch):
                    out[r, k, t : t + s, left : left + s] = cv2.resize(
                        x[r, k], (int(s), int(s)), interpolation=cv2.INTER_LINEAR
                    )
    elif who == "torch":
        torch = pytest.importorskip("torch", reason="PyTorch is not installed")
        F, tx, tout = torch.nn.functional, torch.from_numpy(x), torch.from_numpy(out)

        def fn():
            tout.zero_()
            for r, (s, t, left) in enumerate(params):
                tout[r, :, t : t + s, left : left + s] = F.interpolate(
                    tx[r : r + 1], size=(int(s), int(s)), mode="bilinear", align_corners=False
                )[0]
    else:  # the floor: a copy of out's size
        src = out.copy()
        fn = lambda: np.copyto(out, src)
    nbytes = (src.nbytes if who == "copy" else x.nbytes) + out.nbytes
    measure(fn, f"random_resize_pad-{n}x{ch}x{lo}x{lo}-to{hi}", nbytes)


def test_certify_split(full, benchmark, measure, monkeypatch):
    """Where certify's time goes: the model, the noise kernel, the rest (Python, votes, bounds)."""
    n, inputs, d, k = (100_000, 4, 784, 10) if full else (1000, 1, 784, 10)
    rng = np.random.default_rng(0)
    w = rng.standard_normal((d, k)).astype(np.float32) / np.sqrt(d)
    x = rng.random((inputs, d), dtype=np.float32)
    spent = dict.fromkeys(("model", "noise", "total"), 0.0)  # over every call, warm-up included

    def timed(key, f):
        def call(*a):
            t = time.perf_counter()
            r = f(*a)
            spent[key] += time.perf_counter() - t
            return r

        return call

    init = smoothing._Sampler.__init__

    def timed_init(self, *a, **kw):  # the noise kernel is private to certify's sampler
        init(self, *a, **kw)
        self.noise = timed("noise", self.noise)

    monkeypatch.setattr(smoothing._Sampler, "__init__", timed_init)
    model = timed("model", lambda b: b @ w)
    measure(
        timed("total", lambda: smoothing.certify(model, x, 0.25, 100, n, batch_size=1000, seed=0, progress=False)),
        f"certify-linear{d}to{k}-n{n}-{inputs}inputs",
    )
    model_s, noise_s, total = spent["model"], spent["noise"], spent["total"]
    benchmark.extra_info.update(
        model_share=model_s / total, noise_share=noise_s / total, rest_share=(total - model_s - noise_s) / total
    )
