"""Side-by-side timings of the randomised defences (issue 4) against their peers.

    PYTHONPATH=src python benchmarks/transforms_bench.py [--quick] [--cases noise,resize,deflect,certify]

Each case times every contender in interleaved rounds (median of the rounds), on
(64, 3, 224, 224) float32 unless said otherwise, with the machine's copy bandwidth
measured in the same run as the floor. Peers missing here (torch, cv2) are skipped with
the reason. ``--cpu-time`` times CPU seconds instead of wall-clock (for a machine shared
with other work; the certify case is always wall-clock). Not a test: timing never goes in tests/.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time

import numpy as np

import mlsec_kernels as mk
from mlsec_kernels import smoothing


CLOCK = time.perf_counter  # --cpu-time: time.process_time (this process's CPU seconds, all threads)


def _timeit(fn, min_time=0.05):
    fn()
    reps, t0 = 0, CLOCK()
    while True:
        fn()
        reps += 1
        dt = CLOCK() - t0
        if dt >= min_time:
            return dt / reps


def interleaved(contenders: dict, rounds: int):
    """Median seconds per call of each contender, timed round-robin (load drifts cancel)."""
    times = {k: [] for k in contenders}
    for _ in range(rounds):
        for k, fn in contenders.items():
            times[k].append(_timeit(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def report(title, res, nbytes, ref_key):
    print(f"\n## {title}")
    for k, t in res.items():
        extra = f"{nbytes / t / 1e9:6.2f} GB/s" if nbytes else ""
        print(f"  {k:<44} {t * 1e3:9.3f} ms {extra}  {'' if k == ref_key else f'{ref_key} is {t / res[ref_key]:.2f}x faster'}")


def _peer(name):
    try:
        return __import__(name)
    except ImportError as e:
        print(f"  ({name} skipped: {e})")
        return None


def case_noise(rounds, shape):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    out, tmp = np.empty_like(x), np.empty_like(x)
    gen = np.random.default_rng(1)
    c = {
        "copy (floor: read x + write out)": lambda: np.copyto(out, x),
        "mk.gaussian_noise cpp (clip)": lambda: mk.gaussian_noise(x, 0.1, seed=1, clip=(0, 1), out=out),
        "mk.gaussian_noise numba (clip)": lambda: mk.gaussian_noise(x, 0.1, seed=1, clip=(0, 1), out=out, backend="numba"),
        "numpy default_rng().standard_normal + clip": lambda: np.clip(
            x + np.float32(0.1) * gen.standard_normal(shape, dtype=np.float32, out=tmp), 0, 1, out=out),
    }
    torch = _peer("torch")
    if torch is not None:
        tx, tout = torch.from_numpy(x), torch.from_numpy(out)
        c["torch.randn + clamp"] = lambda: torch.clamp(tx + 0.1 * torch.randn(shape), 0, 1, out=tout)
    res = interleaved(c, rounds)
    report(f"gaussian_noise with clip, {shape} float32", res,
           2 * x.nbytes, "mk.gaussian_noise cpp (clip)")


def case_resize(rounds, shape, lo=224, hi=248):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    n, ch = shape[:2]
    out = np.empty((n, ch, hi, hi), np.float32)
    params = mk.transforms.resize_pad_params(n, lo, hi, 5, 0)
    c = {
        "copy of out's size (floor)": lambda: np.copyto(out, 0.0),
        "mk.random_resize_pad cpp bilinear": lambda: mk.random_resize_pad(x, hi, min_size=lo, seed=5, interpolation="bilinear", out=out),
        "mk.random_resize_pad numba bilinear": lambda: mk.random_resize_pad(x, hi, min_size=lo, seed=5, interpolation="bilinear",
                                                                         out=out, backend="numba"),
    }
    cv2 = _peer("cv2")
    if cv2 is not None:
        def per_plane():
            out[...] = 0
            for r, (s, t, lft) in enumerate(params):
                for k in range(ch):
                    out[r, k, t:t + s, lft:lft + s] = cv2.resize(x[r, k], (int(s), int(s)), interpolation=cv2.INTER_LINEAR)
        c["OpenCV resize per plane (+ pad)"] = per_plane
    torch = _peer("torch")
    if torch is not None:
        F, tx, tout = torch.nn.functional, torch.from_numpy(x), torch.from_numpy(out)

        def per_sample():
            tout.zero_()
            for r, (s, t, lft) in enumerate(params):
                tout[r, :, t:t + s, lft:lft + s] = F.interpolate(tx[r:r + 1], size=(int(s), int(s)), mode="bilinear",
                                                                 align_corners=False)[0]
        c["torch interpolate per sample (+ pad)"] = per_sample
    res = interleaved(c, rounds)
    report(f"random_resize_pad {lo} -> [{lo}, {hi}) -> {hi} bilinear, {shape}", res, x.nbytes + out.nbytes,
           "mk.random_resize_pad cpp bilinear")


def prakash_loop(img, deflections, window):
    """Prakash et al.'s pixel_deflection_without_map (their repository), on one HWC image."""
    img = np.copy(img)
    H, W, C = img.shape
    while deflections > 0:
        for c in range(0, C):
            x, y = random.randint(0, H - 1), random.randint(0, W - 1)
            while True:
                a, b = random.randint(-1 * window, window), random.randint(-1 * window, window)
                if x + a < H and x + a > 0 and y + b < W and y + b > 0:
                    break
            img[x, y, c] = img[x + a, y + b, c]
        deflections -= 1
    return img


def case_deflect(rounds, shape, deflections=200, window=10):
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    out = np.empty_like(x)
    hwc = np.ascontiguousarray(x[0].transpose(1, 2, 0))
    n = shape[0]
    c = {
        "mk.pixel_deflection cpp (whole batch)": lambda: mk.pixel_deflection(x, deflections, window, seed=1, out=out),
        "mk.pixel_deflection cpp in place (out=x)": lambda: mk.pixel_deflection(out, deflections, window, seed=1, out=out),
        "mk.pixel_deflection numba (whole batch)": lambda: mk.pixel_deflection(x, deflections, window, seed=1, out=out,
                                                                             backend="numba"),
        f"Prakash et al.'s Python loop x {n} images": lambda: prakash_loop(hwc, deflections, window),
    }
    res = interleaved(c, rounds)
    res[f"Prakash et al.'s Python loop x {n} images"] *= n
    report(f"pixel_deflection, {deflections} deflections, window {window}, {shape}", res, 0,
           "mk.pixel_deflection cpp (whole batch)")


def case_certify(n=100_000, d=784, k=10, inputs=4, batch=1000):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((d, k)).astype(np.float32) / np.sqrt(d)
    x = rng.random((inputs, d), dtype=np.float32)
    spent = [0.0]

    def model(b):
        t = time.perf_counter()
        y = b @ w
        spent[0] += time.perf_counter() - t
        return y

    noise = [0.0]
    init = smoothing._Sampler.__init__

    def timed_init(self, *args, **kwargs):  # times the noise kernel's calls inside certify
        init(self, *args, **kwargs)
        kernel = self.noise

        def timed(*a):
            t = time.perf_counter()
            kernel(*a)
            noise[0] += time.perf_counter() - t

        self.noise = timed

    smoothing._Sampler.__init__ = timed_init
    try:
        smoothing.certify(model, x[:1], 0.25, 10, 2000, batch_size=batch, seed=0)  # warm-up
        spent[0] = noise[0] = 0.0
        t = time.perf_counter()
        smoothing.certify(model, x, 0.25, 100, n, batch_size=batch, seed=0, progress=False)
        total = time.perf_counter() - t
    finally:
        smoothing._Sampler.__init__ = init
    rest = total - spent[0] - noise[0]
    print(f"\n## smoothing.certify, linear model {d} -> {k} (NumPy matmul), n0=100, n={n}, {inputs} inputs, batch {batch}")
    print(f"  total {total * 1e3:.1f} ms: in the model {spent[0] * 1e3:.1f} ms ({spent[0] / total:.1%}), noise kernel "
          f"{noise[0] * 1e3:.1f} ms ({noise[0] / total:.1%}), everything else (Python, votes, bounds) {rest * 1e3:.1f} ms "
          f"({rest / total:.1%})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="3 rounds and a smaller batch")
    ap.add_argument("--cases", default="noise,resize,deflect,certify")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time CPU seconds of this process (all its threads) instead of wall-clock: on a shared, "
                         "oversubscribed machine wall-clock includes the time other processes hold the cores")
    a = ap.parse_args()
    global CLOCK
    if a.cpu_time:
        CLOCK = time.process_time
    rounds = 3 if a.quick else 9
    shape = (16, 3, 224, 224) if a.quick else (64, 3, 224, 224)
    print(f"clock: {CLOCK.__name__}; threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, cpus={os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.1f}; backends {mk.backends()}")
    cases = a.cases.split(",")
    if "noise" in cases:
        case_noise(rounds, shape)
    if "resize" in cases:
        case_resize(rounds, shape)
    if "deflect" in cases:
        case_deflect(rounds, shape)
    if "certify" in cases:
        case_certify(n=20_000 if a.quick else 100_000)


if __name__ == "__main__":
    main()
