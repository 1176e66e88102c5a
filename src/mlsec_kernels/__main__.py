"""The ``mlsec-kernels`` command (also ``python -m mlsec_kernels``).

Subcommands: ``bench`` (the benchmark suite, see :mod:`mlsec_kernels.bench`) and
``backends`` (what this installation can run). Each subcommand is one ``_cmd_<name>``
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


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mlsec-kernels", description="mlsec_kernels: adversarial-ML kernels.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("bench", help="time every op against a memory copy and against its peers",
                       description="Times each op per backend against a memory copy measured in the same run "
                                   "(x floor) and against peers run side by side (NumPy, Numba prange, PyTorch, "
                                   "torch.compile, ART where installed).")
    b.add_argument("--quick", action="store_true", help="fewer repeats, smaller sort-based cases, no torch.compile")
    b.add_argument("--ops", nargs="+", metavar="OP", help="ops to run (fgsm pgd_step project random_start rng bit_depth median_filter non_local_means)")
    b.add_argument("--backend", nargs="+", metavar="B", help="backends to run: cpp numba cuda (default: all usable)")
    b.add_argument("--peers", nargs="+", metavar="P",
                   help="peers to run: numpy numba-prange torch torch.compile art (default: all installed)")
    b.add_argument("--json", metavar="PATH", help="save every number and the machine's description here")
    b.add_argument("--size-scale", type=float, default=1.0, help=argparse.SUPPRESS)  # tests: tiny batches
    b.set_defaults(func=_cmd_bench)

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
