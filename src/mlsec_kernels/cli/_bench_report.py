"""What ``mlsec-kernels bench`` shows and saves: the table, and the machine the numbers
come from."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import sys


def _time(ms: float) -> str:
    return f"{ms * 1e3:.3g} us" if ms < 0.1 else f"{ms:.4g} ms"


def table(rep: dict) -> str:
    """The results as a fixed-width table: one row per backend (per CPU tier) and per peer."""
    rows = rep["results"]
    peer_cols = [p for p in dict.fromkeys(r["backend"] for r in rows if r["kind"] == "peer")]
    head = ["op", "params", "backend", "size", "median", "GB/s", "x floor"] + [f"vs {p}" for p in peer_cols]
    body = []
    for r in rows:
        who = r["backend"] if r["kind"] == "mlsec" else f"{r['backend']} (peer)"
        cells = [
            r["op"],
            r["params"],
            who,
            "x".join(map(str, r["shape"])),
            _time(r["median_ms"]),
            f"{r['GBps']:.3g}",
            f"{r['x_floor']:.2f}",
        ]
        sp = r.get("speedup", {})
        cells += [f"{sp[p]:.2f}x" if p in sp else "" for p in peer_cols]
        body.append(cells)
    widths = [max(len(c) for c in col) for col in zip(head, *body)] if body else [len(h) for h in head]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])] + [line(c) for c in body]
    floors: dict = {}  # one line per case, with the copy of every run that timed it
    for c in rep["calibration"]:
        floors.setdefault((c["op"], c["params"], c["side"], tuple(c["shape"])), []).append(c)
    for (op, params, side, shape), cs in floors.items():
        gbps = ", ".join(f"{c['GBps']:.3g}" + (f" ({c['run']} run)" if "run" in c else "") for c in cs)
        out.append(
            f"floor for {op} {params}: {side} copy of {'x'.join(map(str, shape))} float32, {gbps} GB/s (read + write)"
        )
    for s in rep["skipped"]:
        what = f"{s['op']} {s['params']}".strip() if s["op"] else "backend"
        out.append(f"skipped: {what}: {s['who']}: {s['reason']}")
    out += [f"note: {n}" for n in rep["notes"]]
    return "\n".join(out)


def header(info: dict) -> str:
    """The lines above the table: the CPU, its SIMD flags and the C++ tiers."""
    present, absent = info.get("cpu_simd_flags", []), info.get("cpu_simd_flags_absent", [])
    simd = " ".join(present) or "unknown (no /proc/cpuinfo)"
    lines = [
        f"cpu: {info['cpu_model']}, {info['cpus_usable']} of {info['cpu_count']} cores usable; {info['platform']}",
        f"simd: {simd}" + (f" (lacks {' '.join(absent)})" if absent else ""),
    ]
    if info.get("cpu_capability"):
        here, timed = info["cpu_tiers_here"], info.get("cpu_tiers_timed")
        lines.append(
            f"cpp: {info['cpu_capability']} tier loaded (this CPU and build run: {', '.join(here)}); "
            + (f"timed: {', '.join(timed)}" if timed else "--cpu-capability all times each")
        )
    else:
        lines.append(f"cpp: {info['backends']['cpp']}")
    return "\n".join(lines)


def merge_tiers(rep: dict, runs: dict) -> None:
    """Names the cpp rows by CPU tier, ``cpp[avx2]``, and adds the rows of the tiers timed
    in processes of their own. ``runs``: tier name -> that run's --json document, or None
    for the tier this process loaded (its rows are already in ``rep``), highest tier first.

    Each row keeps the copy floor of the run that timed it; the peers are timed once, here,
    so another run's "vs PEER" divides this run's peer times."""
    here = next((t for t, doc in runs.items() if doc is None), None)
    for r in rep["results"]:
        if r["backend"] == "cpp":
            r.update(backend=f"cpp[{here}]", cpu_tier=here)
    for c in rep["calibration"]:
        c["run"] = "main"
    peer_ms: dict = {}
    for r in rep["results"]:
        if r["kind"] == "peer":
            peer_ms.setdefault(_case_key(r), {})[r["backend"]] = r["median_ms"]
    others = {t: doc for t, doc in runs.items() if doc is not None}
    for tier, doc in others.items():
        name = f"cpp[{tier}]"
        for r in doc["results"]:
            if r["backend"] in ("cpp", "numba"):
                r.update(
                    backend=f"{r['backend']}[{tier}]",
                    cpu_tier=tier,
                    speedup={p: t / r["median_ms"] for p, t in peer_ms.get(_case_key(r), {}).items()},
                )
                rep["results"].append(r)
        rep["calibration"] += [dict(c, run=name) for c in doc["calibration"]]
        for s in doc["skipped"]:
            s = dict(s, who=name if s["who"] == "cpp" else s["who"])
            if s not in rep["skipped"]:
                rep["skipped"].append(s)
        rep["notes"] += [n for n in doc["notes"] if n not in rep["notes"]]
    # A case's rows together: its peers, then the tiers highest first, then numba and cuda.
    rank = {f"{b}[{t}]": 2 * i + (b == "numba") for i, t in enumerate(runs) for b in ("cpp", "numba")}
    case = {k: i for i, k in enumerate(dict.fromkeys(_case_key(r) for r in rep["results"]))}
    rep["results"].sort(key=lambda r: (case[_case_key(r)], r["kind"] == "mlsec", rank.get(r["backend"], len(rank))))
    if others:
        rep["notes"].append(
            f"{', '.join(f'cpp[{t}]' for t in others)}: timed in processes of their own "
            "(MLSEC_CPU_CAPABILITY), each against the copy floor of its own run; their vs PEER "
            "ratios use the main run's peer times; numba[TIER] rows: Numba compiled there for "
            "that tier's ISA (NUMBA_CPU_NAME), numba: for this host's CPU"
        )


def _case_key(r):
    return r["op"], r["params"], tuple(r["shape"])


# Flags that decide the tiers: x86-64-v2 and v3 (avx2), v4 (avx512); NEON/SVE on aarch64.
SIMD_FLAGS = (
    "sse2",
    "pni",
    "ssse3",
    "sse4_1",
    "sse4_2",
    "popcnt",
    "avx",
    "avx2",
    "fma",
    "f16c",
    "bmi1",
    "bmi2",
    "abm",
    "movbe",
    "avx512f",
    "avx512dq",
    "avx512cd",
    "avx512bw",
    "avx512vl",
)
ARM_FLAGS = ("asimd", "asimdhp", "asimddp", "sve", "sve2")
_SHOWN_AS = {"pni": "sse3", "abm": "lzcnt"}  # /proc/cpuinfo's names for them


def _cpuinfo() -> dict:
    """The first CPU's entries of /proc/cpuinfo (empty where there is none)."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if not ln.strip():
                    break
                key, _, value = ln.partition(":")
                info[key.strip()] = value.strip()
    except OSError:
        pass
    return info


def _cpu_model(cpuinfo: dict) -> str:
    return cpuinfo.get("model name") or platform.processor() or platform.uname().machine


def _simd_flags(cpuinfo: dict) -> tuple[list, list]:
    """The tier-relevant SIMD flags this CPU has, and those it lacks."""
    have = set((cpuinfo.get("flags") or cpuinfo.get("Features") or "").split())
    if not have:
        return [], []
    known = ARM_FLAGS if "Features" in cpuinfo else SIMD_FLAGS
    name = lambda f: _SHOWN_AS.get(f, f)  # noqa: E731
    return [name(f) for f in known if f in have], [name(f) for f in known if f not in have]


def _version(*dists):
    for d in dists:
        try:
            return importlib.metadata.version(d)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def machine(argv=None) -> dict:
    """The machine and software the numbers come from."""
    import numba

    import mlsec_kernels as mk

    from .. import _backend
    from . import bench

    cpuinfo = _cpuinfo()
    simd, lacks = _simd_flags(cpuinfo)
    info = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["mlsec-kernels"] + list(sys.argv[1:] if argv is None else argv)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _cpu_model(cpuinfo),
        "cpu_simd_flags": simd,
        "cpu_simd_flags_absent": lacks,
        "cpu_capability": _backend.cpu_capability(),  # the C++ tier this process loaded
        "cpu_tiers_here": bench.cpu_tiers(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        # Other processes matter: a parallel region waits for its slowest thread, and on a
        # busy machine that thread waits for a scheduler tick.
        "loadavg_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "threads": {
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
            "numba": numba.get_num_threads(),
            "cpp_openmp": bool(getattr(_backend._cpu, "openmp", False)),
        },
        "versions": {
            "mlsec_kernels": mk.__version__,
            "numpy": _version("numpy"),
            "numba": _version("numba"),
            "torch": _version("torch"),
            "cupy": _version("cupy-cuda13x", "cupy-cuda12x", "cupy"),
            "art": _version("adversarial-robustness-toolbox"),
        },
        "backends": mk.backends(),
    }
    if "torch" in sys.modules:
        info["threads"]["torch"] = sys.modules["torch"].get_num_threads()
    try:
        info["threads"]["numba_layer"] = numba.threading_layer()
    except ValueError:  # no parallel Numba code ran yet
        pass
    return info
