"""The ``mlsec-kernels`` command (also ``python -m mlsec_kernels``).

Subcommands: ``bench`` (the benchmark suite, see :mod:`mlsec_kernels.cli.bench`),
``backends`` (what this installation can run) and ``demo`` (:mod:`mlsec_kernels.cli.demo`).
Each subcommand is one ``_cmd_<name>`` function registered in ``_parser``; heavy imports
happen inside it, so ``backends`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _names(values):
    """Accepts both ``--ops fgsm project`` and ``--ops fgsm,project``."""
    if not values:
        return None
    return [v for item in values for v in item.split(",") if v]


def _cmd_bench(args) -> int:
    from .. import _backend
    from . import _bench_report, bench

    backends, peer_names, tiers = _names(args.backend), _names(args.peers), _names(args.cpu_capability)
    for flag, given, known in (
        ("--backend", backends, bench.SIDES),
        ("--peers", peer_names, bench.ALL_PEERS + ("none",)),
        ("--cpu-capability", tiers, _backend.TIERS + ("all",)),
    ):
        if given and set(given) - set(known):
            print(f"mlsec-kernels bench: {flag}: choose from {', '.join(known)}", file=sys.stderr)
            return 2
    peer_names = [p for p in peer_names if p != "none"] if peer_names else peer_names
    if tiers:
        tiers, err = _cpu_tiers(tiers, backends)
        if err:
            print(f"mlsec-kernels bench: --cpu-capability: {err}", file=sys.stderr)
            return 2
        if _backend._cpu.capability not in tiers:  # this process can only time the tier it loaded
            backends = [b for b in (backends or bench.SIDES) if b != "cpp"]
    try:
        rep = bench.run(
            ops=_names(args.ops),
            backends=backends,
            peer_names=peer_names,
            quick=args.quick,
            size_scale=args.size_scale,
            sides=("host",) if tiers else (),
        )
    except ValueError as e:  # an unknown op name
        print(f"mlsec-kernels bench: {e}", file=sys.stderr)
        return 2
    info = _bench_report.machine(args.argv)
    if tiers:
        numba = "numba" in (backends or bench.SIDES)
        info["cpu_tiers_timed"] = _time_tiers(rep, tiers, args, numba)
    rep = {"machine": info, **rep}

    def plot(r, path):
        from . import _bench_plot

        return _bench_plot.plot(r, path)

    return _report("bench", rep, args, _bench_report.header(info) + "\n" + _bench_report.table(rep), plot)


def _report(cmd, rep, args, text, plot) -> int:
    """Saves --json (first: the numbers survive a closed stdout), prints the text, draws
    --plot; 1 when the figure could not be made (matplotlib missing)."""
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rep, f, indent=1, default=str)
    print(text)
    status = 0
    if args.plot:
        err = plot(rep, args.plot)
        if err:
            print(f"mlsec-kernels {cmd}: {err}", file=sys.stderr)
            status = 1
        else:
            print(f"figure: {args.plot}")
    if args.json:
        print(f"saved: {args.json}")
    return status


def _cpu_tiers(asked, backends) -> tuple:
    """The tiers --cpu-capability names, highest first, or why they cannot be timed here."""
    from .. import _backend
    from . import bench

    here = bench.cpu_tiers()
    tiers = here[::-1] if "all" in asked else sorted(set(asked), key=_backend.TIERS.index, reverse=True)
    if not here:
        return None, f"the C++ backend is not usable here ({_backend.backends()['cpp']})"
    if set(tiers) - set(here):
        return (
            None,
            f"{', '.join(t for t in tiers if t not in here)}: not a tier this CPU and build run; "
            f"available: {', '.join(here)}",
        )
    if backends and "cpp" not in backends:
        return None, "it times the cpp backend, which --backend leaves out"
    return tiers, None


def _time_tiers(rep, tiers, args, numba) -> list:
    """Adds to ``rep`` the cpp rows of the other tiers, each timed in a process of its own
    (with numba compiled for the tier's ISA when ``numba``), names all cpp rows by tier,
    and returns the tier names timed."""
    from .. import _backend
    from . import _bench_report

    runs = {}
    for t in tiers:
        if t == _backend._cpu.capability:  # timed here already
            runs[_backend.cpu_capability()] = None
        elif (doc := _tier_run(t, args, numba)) is not None:
            runs[doc["machine"]["cpu_capability"]] = doc
        else:
            rep["skipped"].append(
                {
                    "op": None,
                    "params": None,
                    "who": f"cpp[{t}]",
                    "reason": "its run failed (its error is printed above the table)",
                }
            )
    _bench_report.merge_tiers(rep, runs)
    rep["settings"]["cpu_capability"] = tiers
    return list(runs)


# The LLVM CPU (and features: Numba adds this host's own to any CPU name unless told
# otherwise) each tier's Numba run compiles for, so that C++ and Numba are compared on the
# ISA an AVX2-only or baseline machine has.
NUMBA_CPU = {"default": ("x86-64", "+sse2"), "avx2": ("x86-64-v3", "+avx2"), "avx512": ("x86-64-v4", "+avx512f")}


def _tier_run(tier: str, args, numba: bool) -> dict | None:
    """The cpp (and numba) rows of one CPU tier, timed in a fresh interpreter: a process
    loads one tier (``MLSEC_CPU_CAPABILITY``, read at import) and Numba compiles for one CPU
    (``NUMBA_CPU_NAME``). Its progress bar and errors go to stderr."""
    import os
    import platform
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.json")
        cmd = [
            sys.executable,
            "-m",
            "mlsec_kernels",
            "bench",
            "--backend",
            "cpp",
            *(["numba"] * numba),
            "--peers",
            "none",
            "--json",
            path,
            "--size-scale",
            repr(args.size_scale),
        ]
        cmd += (["--quick"] if args.quick else []) + (["--ops", *_names(args.ops)] if args.ops else [])
        env = dict(os.environ, MLSEC_CPU_CAPABILITY=tier)
        if numba and platform.machine() in ("x86_64", "AMD64"):
            env["NUMBA_CPU_NAME"], env["NUMBA_CPU_FEATURES"] = NUMBA_CPU[tier]
        r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL)
        if r.returncode != 0:
            print(
                f"mlsec-kernels bench: exit code {r.returncode} from MLSEC_CPU_CAPABILITY={tier} {' '.join(cmd)}",
                file=sys.stderr,
            )
            return None
        with open(path) as f:
            return json.load(f)


def _cmd_backends(args) -> int:
    from .. import backends

    for name, state in backends().items():
        print(f"{name:6} {state}")
    return 0


def _cmd_demo(args) -> int:
    try:
        import sklearn  # noqa: F401 (the digits come with it; an extra, not a dependency)
    except ImportError:
        print(f"mlsec-kernels demo needs scikit-learn, which is not installed: {_demo_install()}", file=sys.stderr)
        return 1
    from . import _demo_report, demo

    rep = demo.run(quick=args.quick, seed=args.seed)
    return _report("demo", rep, args, _demo_report.text(rep), _demo_report.plot)


def _demo_install() -> str:
    """The one command that installs the demo's extra: from the source tree when this
    package runs from one (PYTHONPATH=src, or an editable install), else from PyPI."""
    root = Path(__file__).resolve().parents[3]
    if (root / "pyproject.toml").is_file() and (root / "src" / "mlsec_kernels").is_dir():
        where = "." if root == Path.cwd().resolve() else str(root)
        return f'pip install "{where}[demo]"'
    return 'pip install "mlsec-kernels[demo]"'


def _op_families() -> list:
    """The ops the bench has cases for, by family (rng, output) as --ops takes them."""
    from . import bench

    return list(dict.fromkeys(c.op.split(".")[0] for c in bench.cases()))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlsec-kernels", description="mlsec_kernels: adversarial-ML kernels.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser(
        "bench",
        help="time every op against a memory copy and against its peers",
        description="Times each op per backend against a memory copy measured in the same run "
        "(x floor) and against peers run side by side (NumPy, Numba prange, PyTorch, "
        "torch.compile, ART where installed). The header names the CPU, its SIMD flags "
        "and the CPU tier the C++ kernels run at.",
    )
    b.add_argument("--quick", action="store_true", help="fewer repeats, smaller sort-based cases, no torch.compile")
    b.add_argument(
        "--ops",
        nargs="+",
        metavar="OP",
        help=f"ops to run: {' '.join(_op_families())} (or one of a family: output.reverse_sigmoid etc.)",
    )
    b.add_argument("--backend", nargs="+", metavar="B", help="backends to run: cpp numba cuda (default: all usable)")
    b.add_argument(
        "--peers",
        nargs="+",
        metavar="P",
        help="peers to run: numpy numba-prange torch torch.compile art scipy opencv, or none (default: all installed)",
    )
    b.add_argument(
        "--cpu-capability",
        nargs="+",
        metavar="TIER",
        help="CPU tiers of the cpp backend to time, side by side as cpp[TIER] rows: default avx2 avx512, "
        "or all (every tier this CPU and build run); each tier other than the loaded one runs in a "
        "process of its own (default: the loaded tier only, shown as cpp)",
    )
    b.add_argument("--json", metavar="PATH", help="save every number and the machine's description here")
    b.add_argument(
        "--plot",
        metavar="PATH",
        help="write a PNG: each case's time over the copy floor per backend, "
        "tier and peer, one panel per op family (matplotlib)",
    )
    b.add_argument("--size-scale", type=float, default=1.0, help=argparse.SUPPRESS)  # tests: tiny batches
    b.set_defaults(func=_cmd_bench)

    d = sub.add_parser(
        "demo",
        help="attacks and defences on scikit-learn's digits, one report",
        description="Trains a small NumPy classifier on scikit-learn's 8x8 digits (no download) and "
        "reports attacks, feature squeezing, randomized smoothing, model extraction and "
        "the time each part took.",
    )
    d.add_argument("--quick", action="store_true", help="fewer images, steps and queries")
    d.add_argument(
        "--plot", metavar="PATH", help="write a PNG: accuracy vs eps, certified accuracy vs radius (matplotlib)"
    )
    d.add_argument("--json", metavar="PATH", help="save every number here")
    d.add_argument("--seed", type=int, default=0, help="seed of the split, the models and the attacks (default 0)")
    d.set_defaults(func=_cmd_demo)

    k = sub.add_parser("backends", help="which backends this installation can run, and why not")
    k.set_defaults(func=_cmd_backends)
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    args.argv = argv
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
