"""What ``mlsec-kernels bench`` shows and saves: a progress bar on a terminal, the table,
and the machine the numbers come from."""
from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import sys


class Progress:
    """A one-line bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, stream=None, width: int = 28):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.done, self.width = max(1, total), 0, width
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())

    def step(self, label: str):
        self.advance(1, label)

    def advance(self, n: int, label: str = ""):
        self.done = min(self.total, self.done + n)
        if self.live:
            fill = self.width * self.done // self.total
            bar = "#" * fill + "." * (self.width - fill)
            self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
            self.stream.flush()

    def close(self):
        if self.live:
            self.stream.write("\r" + " " * (self.width + 56) + "\r")
            self.stream.flush()


def _time(ms: float) -> str:
    return f"{ms * 1e3:.3g} us" if ms < 0.1 else f"{ms:.4g} ms"


def table(rep: dict) -> str:
    """The results as a fixed-width table: one row per backend and per peer."""
    rows = rep["results"]
    peer_cols = [p for p in dict.fromkeys(r["backend"] for r in rows if r["kind"] == "peer")]
    head = ["op", "params", "backend", "size", "median", "GB/s", "x floor"] + [f"vs {p}" for p in peer_cols]
    body = []
    for r in rows:
        who = r["backend"] if r["kind"] == "mlsec" else f"{r['backend']} (peer)"
        cells = [r["op"], r["params"], who, "x".join(map(str, r["shape"])), _time(r["median_ms"]),
                 f"{r['GBps']:.3g}", f"{r['x_floor']:.2f}"]
        sp = r.get("speedup", {})
        cells += [f"{sp[p]:.2f}x" if p in sp else "" for p in peer_cols]
        body.append(cells)
    widths = [max(len(c) for c in col) for col in zip(head, *body)] if body else [len(h) for h in head]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])] + [line(c) for c in body]
    for c in rep["calibration"]:
        out.append(f"floor for {c['op']} {c['params']}: {c['side']} copy of {'x'.join(map(str, c['shape']))} float32, "
                   f"{c['GBps']:.3g} GB/s (read + write)")
    for s in rep["skipped"]:
        what = f"{s['op']} {s['params']}".strip() if s["op"] else "backend"
        out.append(f"skipped: {what}: {s['who']}: {s['reason']}")
    out += [f"note: {n}" for n in rep["notes"]]
    return "\n".join(out)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return ln.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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
    from . import _backend

    info = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["mlsec-kernels"] + list(sys.argv[1:] if argv is None else argv)),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        # Other processes matter: a parallel region waits for its slowest thread, and on a
        # busy machine that thread waits for a scheduler tick.
        "loadavg_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "threads": {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "numba": numba.get_num_threads(),
                    "cpp_openmp": bool(getattr(_backend._cpu, "openmp", False))},
        "versions": {"mlsec_kernels": mk.__version__, "numpy": _version("numpy"), "numba": _version("numba"),
                     "torch": _version("torch"), "cupy": _version("cupy-cuda13x", "cupy-cuda12x", "cupy"),
                     "art": _version("adversarial-robustness-toolbox")},
        "backends": mk.backends(),
    }
    if "torch" in sys.modules:
        info["threads"]["torch"] = sys.modules["torch"].get_num_threads()
    try:
        info["threads"]["numba_layer"] = numba.threading_layer()
    except ValueError:  # no parallel Numba code ran yet
        pass
    return info
