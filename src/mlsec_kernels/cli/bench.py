"""The benchmark suite behind ``mlsec-kernels bench`` (and benchmarks/, which reuses its cases).

Every case runs each selected backend and each installed peer (``_bench_peers``) on the
same arrays, with ``out=`` given, and records:

- the median time per call over ``repeats`` rounds, after a warm-up call (so Numba and
  ``torch.compile`` compilation is excluded); a round times the copy, every peer and every
  backend of the case once each, one after the other, so that all of them see the same
  machine (on a shared machine, memory bandwidth swings between runs); one timing runs
  the call ``inner`` times back to back, so that short calls are timed over milliseconds;
- GB/s: the bytes of each input read once plus each output written once, over the time;
- "x floor": the time over the time a plain copy of the same bytes would take, with the
  copy bandwidth measured in the same run on the same side (``_cpu.memcopy`` on the host,
  a CuPy device-to-device copy on the GPU), so 1.0 means "as fast as memory allows";
- the speedup over each peer: peer time / backend time.

Host times are wall-clock (``time.perf_counter``); device times are CUDA events around
the ``inner`` calls, so a per-call Python cost larger than the kernel shows up as such.
An op missing from this build (``getattr(mlsec_kernels, name)`` fails) is skipped with
the reason, as is any backend or peer that cannot run a case.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import time
from dataclasses import dataclass, field

from .. import _backend
from . import _bench_peers as peers
from ._bench_timing import Timer, Workspace

IMAGES = (64, 3, 224, 224)  # an ImageNet batch, float32: 38.5 MB per array
L1_ROWS = (64, 150528)
LATENCY = (1, 1000)
CIFAR = (64, 3, 32, 32)  # non_local_means: Xu et al.'s CIFAR-10 setting, uint8
EPS = {"inf": 8 / 255, 2: 3.0, 1: 12.0}
STEP = {"inf": 2 / 255, 2: 0.5, 1: 1.0}
ALL_PEERS = tuple(peers.PEERS)
QUICK_SKIPS_PEERS = (
    "torch.compile",
    "scipy",
    "art",
)  # seconds to tens of seconds per case (compiling; SciPy's median, which ART calls too; ART's L1 projection)


@dataclass(frozen=True)
class Case:
    """One measured call: ``op(*pos, **rest, out=out, backend=b)`` on arrays named in
    ``inputs`` (made by :class:`Workspace`) with parameters ``kw``."""

    op: str
    kw: dict
    shape: tuple
    inputs: tuple
    pos: tuple
    peers: tuple = ()
    label: str = ""
    notes: tuple = field(default=())
    dtype: str = "float32"

    @property
    def params(self) -> str:
        shown = {k: v for k, v in self.kw.items() if k not in ("seed",)}
        txt = " ".join(f"{k}={_fmt_param(v)}" for k, v in shown.items())
        return f"{txt} [{self.label}]" if self.label else txt

    @property
    def id(self) -> str:
        norm = [f"norm{self.kw['norm']}"] if "norm" in self.kw else []
        return "-".join([self.op] + norm + [self.label or "x".join(map(str, self.shape))])

    def nbytes(self) -> int:
        """Bytes moved: each input read once and the output written once."""
        return (len(self.inputs) + 1) * math.prod(self.shape) * (1 if self.dtype == "uint8" else 4)


def _fmt_param(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _scaled(shape, scale):
    return (max(1, round(shape[0] * scale)),) + tuple(shape[1:])


# Which peers have code for which case (others would only be skipped).
_ELEMENTWISE = ("numpy", "torch", "torch.compile")
_PEERS = {
    ("fgsm", None): _ELEMENTWISE + ("numba-prange",),
    ("pgd_step", "inf"): _ELEMENTWISE + ("numba-prange",),
    ("pgd_step", 2): _ELEMENTWISE,
    ("pgd_step", 1): ("numpy",),
    ("project", "inf"): _ELEMENTWISE + ("art",),
    ("project", 2): _ELEMENTWISE + ("art",),
    ("project", 1): ("numpy", "art"),
    ("random_start", "inf"): ("numpy", "torch"),
    ("rng.uniform", None): ("numpy", "torch"),
    ("rng.normal", None): ("numpy", "torch"),
    ("bit_depth", None): _ELEMENTWISE + ("numba-prange", "art"),
    ("median_filter", None): ("scipy", "opencv", "art"),
    ("non_local_means", None): ("opencv",),
    ("gaussian_noise", None): ("numpy", "torch"),
}
RANDOM_OPS = (
    "random_start",
    "gaussian_noise",
    "pixel_deflection",
    "output.gaussian_noise",
)  # peers draw other numbers: no agreement check
# Output defences: a server's one-row call and a (4096, 1000) batch; ART's formulas as NumPy.
OUTPUT_BATCH = (4096, 1000)
OUTPUT_OPS = (
    ("reverse_sigmoid", {"beta": 1.0, "gamma": 0.1}),
    ("gaussian_noise", {"scale": 0.2, "seed": 0}),
    ("round", {"decimals": 3}),
    ("high_confidence", {"cutoff": 0.25}),
    ("top_k", {"k": 5}),
    ("class_labels", {}),
)
_PEERS.update({(f"output.{op}", None): ("numpy",) for op, _ in OUTPUT_OPS})
NOTES = (
    "ART's attacks need an estimator (a model), not a gradient: only its projection helper "
    "(art.utils.projection) is compared, on project",
)


def _case(op, kw, shape, inputs, pos, label="", notes=(), dtype="float32"):
    return Case(op, kw, shape, inputs, pos, _PEERS.get((op, kw.get("norm")), ()), label, notes, dtype)


def cases(quick: bool = False, size_scale: float = 1.0) -> list[Case]:
    """The suite. ``size_scale`` scales the batch axis (the CLI tests use tiny sizes)."""
    img, rows = _scaled(IMAGES, size_scale), _scaled(L1_ROWS, size_scale)
    sort_note, sort_rows = (), rows
    if quick:  # the sort-based peers take seconds at full size; fewer rows, same row length
        sort_rows = _scaled(rows, 1 / 8)
        sort_note = (f"--quick: L1 cases on {sort_rows[0]} rows instead of {rows[0]} (sort-based peers)",)
    out = [
        _case("fgsm", {"eps": EPS["inf"]}, img, ("x", "grad"), ("x", "grad", "eps")),
        Case("fgsm", {"eps": EPS["inf"]}, LATENCY, ("x", "grad"), ("x", "grad", "eps"), ("numpy",), "latency"),
    ]
    for norm in ("inf", 2, 1):
        shape, note = (sort_rows, sort_note) if norm == 1 else (img, ())
        kw = {"norm": norm, "step": STEP[norm], "eps": EPS[norm]}
        out.append(_case("pgd_step", kw, shape, ("x", "x0", "grad"), ("x", "x0", "grad", "step", "eps"), notes=note))
    for norm in ("inf", 2, 1):
        shape, note = (sort_rows, sort_note) if norm == 1 else (img, ())
        out.append(_case("project", {"norm": norm, "eps": EPS[norm]}, shape, ("delta",), ("delta", "eps"), notes=note))
    for norm in ("inf", 2, 1):
        out.append(_case("random_start", {"norm": norm, "eps": EPS[norm], "seed": 0}, img, ("x0",), ("x0", "eps")))
    for op in ("rng.uniform", "rng.normal"):
        out.append(_case(op, {"seed": 0}, img, (), ("shape",)))
    out.append(_case("bit_depth", {"bits": 5}, img, ("x",), ("x", "bits")))
    for size in (2, 3, 5):
        out.append(_case("median_filter", {"size": size}, img, ("x",), ("x", "size")))
    cifar, nlm_note = _scaled(CIFAR, size_scale), ()
    if quick:  # the Numba fallback takes over a second per full batch
        cifar = _scaled(cifar, 1 / 8)
        nlm_note = (f"--quick: non_local_means on {cifar[0]} images instead of {CIFAR[0]}",)
    nlm = {"h": 2.0, "template_size": 3, "search_size": 13}
    out.append(_case("non_local_means", nlm, cifar, ("x",), ("x",), "cifar-uint8", nlm_note, "uint8"))
    out.append(_case("gaussian_noise", {"sigma": 0.1, "clip": (0.0, 1.0), "seed": 0}, img, ("x",), ("x", "sigma")))
    out.append(
        _case(
            "pixel_deflection",
            {"deflections": 200, "window": 10, "seed": 0},
            img,
            ("x",),
            ("x", "deflections", "window"),
        )
    )
    for op, kw in OUTPUT_OPS:
        pos = ("p", "k") if op == "top_k" else ("p",)
        out.append(_case(f"output.{op}", kw, _scaled(OUTPUT_BATCH, size_scale), ("p",), pos))
        out.append(_case(f"output.{op}", kw, LATENCY, ("p",), pos, label="latency"))
    return out


def op_function(op: str):
    """The public function for `op` ("fgsm", "rng.uniform"), or None in a build without it."""
    import mlsec_kernels as mk

    obj = mk
    for part in op.split("."):
        nxt = getattr(obj, part, None)
        if nxt is None and obj is mk:
            try:
                nxt = importlib.import_module(f"mlsec_kernels.{part}")
            except ImportError:
                nxt = None
        if nxt is None:
            return None
        obj = nxt
    return obj


def call_op(case: Case, fn, a: dict, out, backend: str):
    kw = dict(case.kw, shape=out.shape)
    args = [a[n] if n in a else kw[n] for n in case.pos]
    rest = {k: v for k, v in case.kw.items() if k not in case.pos}
    return fn(*args, **rest, out=out, backend=backend)


SIDES = {"cpp": "host", "numba": "host", "cuda": "device"}


def usable_backends() -> tuple[list, dict]:
    """The backends this machine can bench, and why not for the others."""
    ok, why = [], {}
    for b in _backend.NAMES:
        if not _backend.available(b):
            why[b] = _backend.backends()[b]
            continue
        if b == "cuda":
            try:
                import cupy  # noqa: F401
            except Exception as e:  # ImportError, or CuPy without its CUDA libraries
                why[b] = f"device arrays need CuPy ({e})"
                continue
        ok.append(b)
    return ok, why


def cpu_tiers() -> list:
    """The C++ tiers both this CPU runs and this build has: what --cpu-capability all times."""
    if _backend._cpu is None:
        return []
    return [
        t
        for t in _backend.TIERS
        if t in _backend._cpu.cpu_tiers() and importlib.util.find_spec(f"{_backend.__package__}._cpu_{t}")
    ]


def select(all_cases, ops):
    """Cases whose op is named in `ops`; "rng" selects every rng.* op."""
    if not ops:
        return list(all_cases)
    known = {c.op for c in all_cases} | {c.op.split(".")[0] for c in all_cases}
    bad = [o for o in ops if o not in known]
    if bad:
        raise ValueError(f"unknown op(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
    return [c for c in all_cases if c.op in ops or c.op.split(".")[0] in ops]


def run(ops=None, backends=None, peer_names=None, quick=False, size_scale=1.0, progress=None, sides=()) -> dict:
    """Runs the suite; returns every number (the ``--json`` document less machine info).
    The peers run on the sides of the backends, and on ``sides`` (where a backend of ours
    is timed in another process, such as cpp at another CPU tier)."""
    from .._progress import Progress

    repeats, target_ms = (5, 4.0) if quick else (15, 20.0)
    # --quick promises under 30 s on a 2-core machine: past 20 s, one round per case.
    deadline = time.perf_counter() + 20.0 if quick else math.inf
    ok, why = usable_backends()
    wanted = list(_backend.NAMES if backends is None else backends)
    runs = [b for b in wanted if b in ok]
    rep = {
        "settings": {
            "quick": quick,
            "repeats": repeats,
            "target_repeat_ms": target_ms,
            "size_scale": size_scale,
            "ops": list(ops or []),
            "backends": runs,
        },
        "results": [],
        "skipped": [],
        "calibration": [],
        "notes": list(NOTES),
    }
    skip = lambda case, who, reason: rep["skipped"].append(  # noqa: E731
        {"op": case.op if case else None, "params": case.params if case else None, "who": who, "reason": reason}
    )
    for b in wanted:
        if b not in ok:
            skip(None, b, why[b])
    if peer_names is None:
        peer_names = [p for p in ALL_PEERS if not (quick and p in QUICK_SKIPS_PEERS)]
        if quick:
            rep["notes"].append(
                "--quick: torch.compile not measured (compiling takes tens of seconds per case), "
                "nor SciPy's median_filter (seconds per call)"
            )
    rep["settings"]["peers"] = list(peer_names)
    chosen = select(cases(quick, size_scale), ops)
    sides = list(dict.fromkeys([SIDES[b] for b in runs] + list(sides)))
    steps = {
        c.id: sum(
            len([p for p in c.peers if p in peer_names and (side == "host" or p not in peers.HOST_ONLY)]) + 2
            for side in sides
        )
        + len(runs)
        for c in chosen
    }
    prog = progress or Progress(sum(steps.values()))
    workspaces, timers = {}, {}
    for case in chosen:
        fn = op_function(case.op)
        if fn is None:
            skip(case, "all", f"mlsec_kernels.{case.op} is not in this build")
            prog.advance(steps[case.id])
            continue
        rep["notes"].extend(n for n in case.notes if n not in rep["notes"])
        for side in sides:
            ws = workspaces.setdefault(side, Workspace(side))
            timer = timers.setdefault(side, Timer(ws, repeats, target_ms, deadline))
            a, out = ws.inputs(case), ws.array("out", case.shape, case.dtype)
            prog.step(f"{case.id} copy ({side})")
            copy = timer.prepare(ws.copy_fn(case.shape))
            entries = {}  # name -> (kind, prepared entry)
            for p in (p for p in case.peers if p in peer_names and (side == "host" or p not in peers.HOST_ONLY)):
                name = "cupy" if p == "numpy" and side == "device" else p  # the same expression, on the GPU
                prog.step(f"{case.id} {name}")
                try:
                    entries[name] = ("peer", timer.prepare(peers.make(p, case.op, case.kw, a, out, ws.xp)))
                except peers.Unavailable as e:
                    skip(case, name, str(e))
                except Exception as e:  # a peer that breaks must not stop the suite
                    skip(case, name, f"{type(e).__name__}: {e}")
            for b in (b for b in runs if SIDES[b] == side):
                prog.step(f"{case.id} {b}")
                try:
                    entries[b] = ("mlsec", timer.prepare(lambda b=b: call_op(case, fn, a, out, b)))
                except Exception as e:
                    skip(case, b, f"{type(e).__name__}: {e}")
            prog.step(f"{case.id} timing ({side})")
            timer.rounds([copy] + [e for _, e in entries.values()])
            copy_bytes = 2 * ws.array("copy_src", case.shape).nbytes
            floor_ms = copy["median_ms"] * case.nbytes() / copy_bytes
            rep["calibration"].append(
                {
                    "op": case.op,
                    "params": case.params,
                    "side": side,
                    "shape": list(case.shape),
                    "bytes": copy_bytes,
                    "copy_ms": copy["median_ms"],
                    "GBps": copy_bytes / copy["median_ms"] / 1e6,
                }
            )
            peer_ms = {n: e["median_ms"] for n, (kind, e) in entries.items() if kind == "peer"}
            diffs = _agreement(case, entries, out, ws)
            for name, (kind, e) in entries.items():
                row = _row(case, side, name, kind, e, floor_ms)
                if kind == "mlsec":
                    row["speedup"] = {p: t / e["median_ms"] for p, t in peer_ms.items()}
                    if name in diffs:
                        row["max_abs_diff_vs_numpy"] = diffs[name]
                rep["results"].append(row)
    prog.close()
    if any(t.rushed for t in timers.values()):
        rep["notes"].append("--quick: 20 s budget reached; later cases were timed with 1 round")
    return rep


def _agreement(case, entries, out, ws):
    """Max |backend - NumPy peer| for deterministic ops: the peers compute the same thing."""
    peer = entries.get("numpy") or entries.get("cupy")
    if peer is None or case.op in RANDOM_OPS or case.op.startswith("rng."):
        return {}
    peer[1]["fn"]()
    ref = out.copy()
    diffs = {}
    for name, (kind, e) in entries.items():
        if kind == "mlsec":
            e["fn"]()
            diffs[name] = float(ws.xp.nanmax(ws.xp.abs(out - ref)))
    return diffs


def _row(case, side, who, kind, m, floor_ms):
    nbytes = case.nbytes()
    return {
        "op": case.op,
        "params": case.params,
        "kw": {k: v for k, v in case.kw.items()},
        "label": case.label,
        "backend": who,
        "kind": kind,
        "side": side,
        "shape": list(case.shape),
        "dtype": case.dtype,
        "bytes": nbytes,
        **{k: v for k, v in m.items() if k != "fn"},
        "GBps": nbytes / m["median_ms"] / 1e6,
        "x_floor": m["median_ms"] / floor_ms,
    }
