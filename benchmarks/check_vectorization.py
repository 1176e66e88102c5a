"""Fail when a hot loop of cpp/ stays scalar on some CPU tier.

Compiles every cpp/*.cpp as the build does (same flags), once per tier: baseline x86-64
(SSE2), x86-64-v3 (AVX2+FMA), x86-64-v4 (AVX-512) with g++ (and clang++ with --clang),
and aarch64 NEON with Debian's cross compiler g++-aarch64-linux-gnu (installed with apt
when missing). It reads the compiler's vectorisation report and checks that each loop in
HOT below is reported vectorised on every tier. A loop is named by a piece of its source
line, so the list survives edits elsewhere in the file; a piece that no longer matches
fails too, so the list cannot silently go stale.

    python benchmarks/check_vectorization.py [--tiers x86-64 x86-64-v3 ...] [--clang] [-v]

Runs in about a minute on two cores; .ci/run runs it after the tests.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPP = ROOT / "cpp"
# The build's flags (CMakeLists.txt, MLSEC_CXX_FLAGS): no contraction, no trapping math.
FLAGS = ["-std=c++17", "-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-fopenmp", f"-I{CPP}"]
TIERS = {  # name: (compiler, flags)
    "x86-64": ("g++", ["-march=x86-64", "-mtune=generic"]),
    "x86-64-v3": ("g++", ["-march=x86-64-v3", "-mtune=generic"]),
    "x86-64-v4": ("g++", ["-march=x86-64-v4", "-mtune=generic", "-mprefer-vector-width=512"]),
    "aarch64": ("aarch64-linux-gnu-g++", ["-march=armv8-a"]),
}
CLANG_TIERS = {f"clang:{k}": ("clang++", v[1]) for k, v in TIERS.items() if k.startswith("x86")}

# (file the loop is in, piece of its source line): the loops that carry the bytes.
HOT = [
    ("fgsm.cpp", "out[j] = fgsm_elem(x[j], g[j], s, lo, hi)"),
    ("bit_depth.cpp", "out[j] = f.template apply<UnitSpan>(x[j])"),
    ("pgd_step.cpp", "o[j] = pgd_inf_elem("),
    ("pgd_step.cpp", "o[j] = pgd_l2_elem("),
    ("pgd_step.cpp", "o[j] = clampv(x0[j] + soft_elem(pgd_l1_delta("),
    ("project.cpp", "o[j] = project_inf_elem(s[j], e)"),
    ("project.cpp", "o[j] = s[j] * sc"),
    ("project.cpp", "o[j] = soft_elem(s[j], th)"),
    ("reduce.hpp", "for (int l = 0; l < kLanes; ++l) {"),  # the canonical sums' lanes
    ("rng.cpp", "out[pos + j] = uniform_as<T>(w[j])"),
    ("rng.cpp", "out[pos + j] = T(z[j])"),
    ("philox.hpp", "box_muller(w[2 * i], w[2 * i + 1]"),  # Box-Muller pairs: log, sqrt, sincos
    ("random_start.hpp", "for (int j = a; j < b; ++j) {"),  # uniform and Laplace draws: log
    ("random_start.cpp", "out[j] = start_elem(x[j], draws[j], scale, lo, hi)"),
    ("noise.cpp", "os[pos + j] = start_elem(R(xs[pos + j]), v[j], s, lo, hi)"),
    ("output.hpp", "out[j] = reverse_sigmoid_elem(out[j], a, b)"),  # the CPU's blocks of rows (run_block)
    ("output.hpp", "out[j] = round_elem(out[j], a)"),
    ("output.hpp", "x[i] = T(double(noisy(i)) * inv)"),
    ("output.hpp", "out[j] = reverse_sigmoid_binary(out[j], a, b)"),  # one column (C = 1)
    ("output.hpp", "out[j] = binary_label(out[j])"),
    ("random_resize_pad.cpp", "d[i] = resize_store<T>(mix2<T>(h0[i], h1[i], b0, b1))"),
    ("non_local_means.cpp", "v[i] += d[i + k * pw]"),
    ("median_filter_networks.hpp", "for (i64 j = 0; j < len; ++j) {  // a lane per column"),  # sorted columns
    ("median_filter_networks.hpp", "for (i64 j = 0; j < Wout; ++j) {"),  # the selection network
    ("median_filter_histogram.hpp", "for (int b = 0; b < 256; ++b) hist[b] += C(a[b] - d[b]);"),
]
# The driver whose report shows a header's loops (the header's instantiations live there).
HEADER_USER = {
    "reduce.hpp": "project.cpp",
    "philox.hpp": "rng.cpp",
    "random_start.hpp": "random_start.cpp",
    "output.hpp": "output.cpp",
    "median_filter_networks.hpp": "median_filter.cpp",
    "median_filter_histogram.hpp": "median_filter.cpp",
}


def line_of(name: str, piece: str) -> int:
    lines = (CPP / name).read_text().splitlines()
    hits = [i + 1 for i, ln in enumerate(lines) if piece in ln]
    if len(hits) != 1:
        sys.exit(f"check_vectorization: {name}: {piece!r} matches {len(hits)} lines, not one: update HOT")
    return hits[0]


def report(tier: str, compiler: str, flags: list, src: Path) -> str:
    if "clang" in compiler:
        extra = ["-Rpass=loop-vectorize"]
    else:
        extra = ["-fopt-info-vec-optimized"]
    cmd = [compiler, *FLAGS, *flags, *extra, "-c", str(src), "-o", os.devnull]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"check_vectorization: {tier}: {' '.join(cmd)} failed:\n{r.stderr[-3000:]}")
    return r.stderr


def vectorised_lines(text: str) -> set:
    """(file, line) of every loop the report calls vectorised (GCC's and Clang's wording)."""
    pat = re.compile(r"([\w./-]+):(\d+):\d+: (?:optimized: loop vectorized|remark: vectorized loop)")
    return {(Path(m.group(1)).name, int(m.group(2))) for m in pat.finditer(text)}


def ensure_cross_compiler() -> bool:
    if shutil.which(TIERS["aarch64"][0]):
        return True
    print("check_vectorization: installing g++-aarch64-linux-gnu (Debian) for the aarch64 tier", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "g++-aarch64-linux-gnu"]):
        if subprocess.run(cmd, env=env, capture_output=True).returncode:
            return False
    return shutil.which(TIERS["aarch64"][0]) is not None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiers", nargs="+", choices=list(TIERS), default=list(TIERS))
    ap.add_argument("--clang", action="store_true", help="also check the x86 tiers with clang++")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every hot loop's status")
    args = ap.parse_args(argv)
    tiers = {t: TIERS[t] for t in args.tiers}
    if "aarch64" in tiers and not ensure_cross_compiler():
        sys.exit("check_vectorization: no aarch64 cross compiler, and apt-get could not install g++-aarch64-linux-gnu")
    if args.clang:
        if not shutil.which("clang++"):
            sys.exit("check_vectorization: --clang needs clang++ (apt-get install clang)")
        tiers.update({k: v for k, v in CLANG_TIERS.items() if k.split(":")[1] in tiers})
    wanted = {(name, line_of(name, piece)): piece for name, piece in HOT}
    sources = sorted({CPP / HEADER_USER.get(name, name) for name, _ in HOT})
    jobs = [(t, c, f, s) for t, (c, f) in tiers.items() for s in sources]
    with cf.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        texts = list(pool.map(lambda j: (j[0], report(*j)), jobs))
    done = {t: set() for t in tiers}
    for t, text in texts:
        done[t] |= vectorised_lines(text)
    failures = 0
    for t in tiers:
        scalar = [(f"{n}:{ln}", p) for (n, ln), p in wanted.items() if (n, ln) not in done[t]]
        failures += len(scalar)
        print(f"{t:18s} {len(wanted) - len(scalar)}/{len(wanted)} hot loops vectorised")
        for where, piece in scalar if not args.verbose else [(f"{n}:{ln}", p) for (n, ln), p in wanted.items()]:
            state = "SCALAR" if (where, piece) in scalar else "ok"
            print(f"    {state:6s} {where:28s} {piece}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
