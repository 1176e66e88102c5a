"""Every C++ op on fixed inputs, for the cross-tier bit-identity test (test_cpu_tiers.py).

Run as a script in a child process with MLSEC_CPU_CAPABILITY set, it saves the outputs of
the tier it loaded to the .npz path given; imported, it computes them in this process.
Sizes are odd and cross the vector widths, the chunk of the canonical sums and the OpenMP
threshold, so the vector bodies, their tails and the threaded split all run.
"""

import sys

import numpy as np

import mlsec_kernels as mk


def outputs() -> dict:
    rs = np.random.default_rng(20261201)
    out = {"_tier": np.array(mk._backend.cpu_capability())}
    for dt in (np.float32, np.float64):
        n, d = 5, 3 * 37 * 41  # 22755 per row: 113775 in all, above the threading threshold
        x0 = rs.random((n, d)).astype(dt)
        x = np.clip(x0 + rs.normal(0, 0.02, x0.shape), 0, 1).astype(dt)
        g = rs.standard_normal(x0.shape).astype(dt)
        g[0, :7] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-30, -1e-30]
        eps = rs.uniform(0.01, 0.1, n)
        key = np.dtype(dt).name
        out[f"fgsm/{key}"] = mk.fgsm(x0, g, eps, backend="cpp")
        out[f"fgsm_targeted/{key}"] = mk.fgsm(x0, g, 0.03, targeted=True, clip=(0.1, 0.9), backend="cpp")
        g2 = np.nan_to_num(g, posinf=3.0, neginf=-3.0)
        for norm, e, st in (("inf", eps, eps / 4), (2, 3.0 * eps, 0.5), (1, 40 * eps, 1.0)):
            out[f"pgd_step/{norm}/{key}"] = mk.pgd_step(x, x0, g2, st, e, norm=norm, backend="cpp")
            out[f"project/{norm}/{key}"] = mk.project(g2, e, norm=norm, backend="cpp")
            out[f"random_start/{norm}/{key}"] = mk.random_start(x0, e, norm=norm, seed=11, backend="cpp")
            out[f"random_start/{norm}/start/{key}"] = mk.random_start(
                x0[2:], e[2:], norm=norm, seed=11, sample_start=2**33 + 1, backend="cpp"
            )
            out[f"project/{norm}/box/{key}"] = mk.project(g2, e, norm=norm, lo=-x0, hi=1 - x0, backend="cpp")
        out[f"gaussian_noise/{key}"] = mk.gaussian_noise(x0, eps, seed=3, clip=(0, 1), backend="cpp")
        out[f"uniform_noise/{key}"] = mk.uniform_noise(x0, 0.1, seed=4, backend="cpp")
        for bits in (1, 5, 8, 16):
            out[f"bit_depth/{bits}/{key}"] = mk.bit_depth(x0 * 3 - 1, bits, clip=(-1, 2), backend="cpp")
        out[f"uniform/{key}"] = mk.rng.uniform(70001, seed=5, offset=3, dtype=dt, backend="cpp")
        out[f"normal/{key}"] = mk.rng.normal(
            70003, seed=6, substream=2**40 + 1, offset=2**34 - 3, dtype=dt, backend="cpp"
        )
        out[f"normal_short/{key}"] = mk.rng.normal(7, seed=6, offset=1, dtype=dt, backend="cpp")
        img = rs.random((3, 3, 29, 35)).astype(dt)
        for size in (2, 3, 5, (3, 5), 9, 17):  # unrolled networks, a table network, ranks
            out[f"median_filter/{size}/{key}"] = mk.median_filter(img, size, backend="cpp")
        holed = img.copy()
        holed[0, 0, 3, 4] = np.nan
        for size in (3, 9):
            out[f"median_filter/nan/{size}/{key}"] = mk.median_filter(holed, size, backend="cpp")
        out[f"random_resize_pad/{key}"] = mk.random_resize_pad(img, 41, seed=8, interpolation="bilinear", backend="cpp")
        out[f"pixel_deflection/{key}"] = mk.pixel_deflection(img, 50, 5, seed=9, backend="cpp")
        out[f"pixel_deflection/start/{key}"] = mk.pixel_deflection(img, 50, 5, seed=9, sample_start=7, backend="cpp")
        p = rs.dirichlet(np.ones(1001), size=3).astype(dt)
        out[f"reverse_sigmoid/{key}"] = mk.output.reverse_sigmoid(p, beta=0.8, gamma=0.2, backend="cpp")
        out[f"output_noise/{key}"] = mk.output.gaussian_noise(p, scale=0.01, seed=1, backend="cpp")
        out[f"output_noise/start/{key}"] = mk.output.gaussian_noise(
            p, scale=0.01, seed=1, sample_start=2**40, backend="cpp"
        )
        col = p[:, :1] * 40  # one column (C = 1, P(positive)): binary rules per step
        out[f"reverse_sigmoid/c1/{key}"] = mk.output.reverse_sigmoid(col, beta=0.8, gamma=0.2, backend="cpp")
        out[f"output_noise/c1/{key}"] = mk.output.gaussian_noise(col, scale=0.1, seed=1, backend="cpp")
        out[f"round/{key}"] = mk.output.round(p, decimals=3, backend="cpp")
        out[f"top_k/{key}"] = mk.output.top_k(p, 5, backend="cpp")
    u8 = rs.integers(0, 256, (2, 3, 31, 33), dtype=np.uint8)
    out["bit_depth/u8"] = mk.bit_depth(u8, 3, clip=(0, 255), backend="cpp")
    for dt in (np.int16, np.int64, np.uint64):  # integer data: conversions vectorised per tier
        info = np.iinfo(dt)
        xi = rs.integers(info.min, info.max, (2, 3, 29, 35), dtype=dt, endpoint=True)
        key = np.dtype(dt).name
        out[f"bit_depth/{key}"] = mk.bit_depth(xi, 24, backend="cpp")
        out[f"gaussian_noise/{key}"] = mk.gaussian_noise(xi, 3.0, seed=3, backend="cpp")
        out[f"random_resize_pad/{key}"] = mk.random_resize_pad(xi, 41, seed=8, interpolation="bilinear", backend="cpp")
    out["median_filter/u8"] = mk.median_filter(u8, 3, backend="cpp")
    for dt in (np.int16, np.uint64):
        ints = rs.integers(np.iinfo(dt).min, np.iinfo(dt).max, (2, 3, 31, 33), dtype=dt, endpoint=True)
        for size in (3, 7, 9):
            out[f"median_filter/{np.dtype(dt).name}/{size}"] = mk.median_filter(ints, size, backend="cpp")
    out["non_local_means/u8"] = mk.non_local_means(u8, h=10.0, template_size=3, search_size=5, backend="cpp")
    out["random_raw"] = mk.rng.random_raw(70001, seed=5, substream=2**40 + 3, offset=2**34 - 5, backend="cpp")
    return out


if __name__ == "__main__":
    np.savez(sys.argv[1], **outputs())
