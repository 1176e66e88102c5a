"""The ``mlsec-kernels`` command (also ``python -m mlsec_kernels``).

Subcommands: ``bench`` (the benchmark suite, see :mod:`mlsec_kernels.bench`),
``backends`` (what this installation can run) and ``demo`` (:mod:`mlsec_kernels.demo`). Each subcommand is one ``_cmd_<name>``
function registered in ``_parser``; heavy imports happen inside it, so ``backends``
answers at once.
"""
from __future__ import annotations

import argparse
import json
import sys


def _names(values):
    """Accepts both ``--ops fgsm project`` and ``--ops fgsm,project``."""
    if not values:
        return None
    return [v for item in values for v in item.split(",") if v]


def _cmd_bench(args) -> int:
    from . import _bench_report, bench

    backends, peer_names = _names(args.backend), _names(args.peers)
    for flag, given, known in (("--backend", backends, bench.SIDES), ("--peers", peer_names, bench.ALL_PEERS)):
        if given and set(given) - set(known):
            print(f"mlsec-kernels bench: {flag}: choose from {', '.join(known)}", file=sys.stderr)
            return 2
    try:
        rep = bench.run(ops=_names(args.ops), backends=backends, peer_names=peer_names,
                        quick=args.quick, size_scale=args.size_scale)
    except ValueError as e:  # an unknown op name
        print(f"mlsec-kernels bench: {e}", file=sys.stderr)
        return 2
    rep = {"machine": _bench_report.machine(args.argv), **rep}
    if args.json:  # saved first: the numbers survive a closed stdout
        with open(args.json, "w") as f:
            json.dump(rep, f, indent=1, default=str)
    print(_bench_report.table(rep))
    if args.json:
        print(f"saved: {args.json}")
    return 0


def _cmd_backends(args) -> int:
    from . import backends

    for name, state in backends().items():
        print(f"{name:6} {state}")
    return 0


def _cmd_demo(args) -> int:
    from . import _demo_report, demo

    try:
        rep = demo.run(quick=args.quick, seed=args.seed)
    except ImportError as e:  # scikit-learn: the dataset
        print(f"mlsec-kernels demo: {e} (pip install scikit-learn)", file=sys.stderr)
        return 1
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rep, f, indent=1, default=str)
    print(_demo_report.text(rep))
    status = 0
    if args.plot:
        err = _demo_report.plot(rep, args.plot)
        if err:
            print(f"mlsec-kernels demo: {err}", file=sys.stderr)
            status = 1
        else:
            print(f"figure: {args.plot}")
    if args.json:
        print(f"saved: {args.json}")
    return status


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlsec-kernels", description="mlsec_kernels: adversarial-ML kernels.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("bench", help="time every op against a memory copy and against its peers",
                       description="Times each op per backend against a memory copy measured in the same run "
                                   "(x floor) and against peers run side by side (NumPy, Numba prange, PyTorch, "
                                   "torch.compile, ART where installed).")
    b.add_argument("--quick", action="store_true", help="fewer repeats, smaller sort-based cases, no torch.compile")
    b.add_argument("--ops", nargs="+", metavar="OP", help="ops to run: fgsm pgd_step project random_start rng bit_depth median_filter non_local_means gaussian_noise pixel_deflection output (or output.reverse_sigmoid etc.)")
    b.add_argument("--backend", nargs="+", metavar="B", help="backends to run: cpp numba cuda (default: all usable)")
    b.add_argument("--peers", nargs="+", metavar="P",
                   help="peers to run: numpy numba-prange torch torch.compile art (default: all installed)")
    b.add_argument("--json", metavar="PATH", help="save every number and the machine's description here")
    b.add_argument("--size-scale", type=float, default=1.0, help=argparse.SUPPRESS)  # tests: tiny batches
    b.set_defaults(func=_cmd_bench)

    d = sub.add_parser("demo", help="attacks and defences on scikit-learn's digits, one report",
                       description="Trains a small NumPy classifier on scikit-learn's 8x8 digits (no download) and "
                                   "reports attacks, feature squeezing, randomized smoothing, model extraction and "
                                   "the time each part took.")
    d.add_argument("--quick", action="store_true", help="fewer images, steps and queries")
    d.add_argument("--plot", metavar="PATH", help="write a PNG: accuracy vs eps, certified accuracy vs radius (matplotlib)")
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
