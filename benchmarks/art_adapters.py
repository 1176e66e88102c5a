"""mlsec_kernels.art against ART's own classes, side by side in one run.

    PYTHONPATH=src python benchmarks/art_adapters.py [--repeats 7] [--target-ms 40] [--only NAME ...]

Each case times ``defence(x)`` of ART's class and of ours (same constructor arguments, same
float32 input) on ART's typical shapes: image batches (128, 3, 32, 32) and (16, 3, 224, 224)
for the preprocessors, (10000, 10) scores and (10000, 1) binary scores for the
post-processors, and randomized smoothing's ``predict`` on 10 inputs. Medians (and minima)
of interleaved repeats after a warm-up (mlsec_kernels.cli's timer), so both sides see the
same state of the machine. Prints a Markdown table with the machine, the command and the date.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import warnings

import numpy as np

IMAGES = [(128, 3, 32, 32), (16, 3, 224, 224)]


def _cases(art_pre, art_post, ours, NumpyRS, BlackBox):
    rng = np.random.default_rng(0)
    cases = []
    for shape in IMAGES:
        x = rng.random(shape, dtype=np.float32)
        for name, kw in [
            ("SpatialSmoothing(window_size=3)", dict(window_size=3, channels_first=True)),
            ("FeatureSqueezing(bit_depth=8)", dict(clip_values=(0.0, 1.0), bit_depth=8)),
            ("GaussianAugmentation(augmentation=False)", dict(sigma=0.1, augmentation=False)),
            ("GaussianAugmentation(ratio=1)", dict(sigma=0.1, clip_values=(0.0, 1.0))),
        ]:
            cls = name.split("(")[0]
            cases.append((name, shape, getattr(art_pre, cls)(**kw), getattr(ours, cls)(**kw), x))
    for shape in [(10000, 10), (10000, 1)]:
        p = (
            rng.dirichlet(np.ones(10), size=shape[0]).astype(np.float32)
            if shape[1] > 1
            else rng.random(shape, np.float32)
        )
        for name, kw in [
            ("ReverseSigmoid()", {}),
            ("Rounded(decimals=3)", dict(decimals=3)),
            ("HighConfidence(cutoff=0.25)", dict(cutoff=0.25)),
            ("ClassLabels()", {}),
            ("GaussianNoise(scale=0.2)", dict(scale=0.2)),
        ]:
            cls = name.split("(")[0]
            cases.append((name, shape, getattr(art_post, cls)(**kw), getattr(ours, cls)(**kw), p))
    # Randomized smoothing around a linear model (64 -> 10) as a black-box neural network.
    w = rng.standard_normal((64, 10)).astype(np.float32)
    clf = BlackBox(lambda b: b.reshape(len(b), -1) @ w, (64,), 10, clip_values=(0, 1))
    x = rng.random((10, 64), dtype=np.float32)
    kw = dict(classifier=clf, sample_size=1000, scale=0.25)
    art_rs, our_rs = NumpyRS(**kw), ours.RandomizedSmoothing(**kw)
    cases.append(("RandomizedSmoothing(sample_size=1000).predict", x.shape, art_rs.predict, our_rs.predict, x))
    return cases


def _machine():
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7, help="timed rounds per case (default 7)")
    ap.add_argument("--target-ms", type=float, default=40.0, help="time per repeat (default 40 ms)")
    ap.add_argument("--only", nargs="*", help="case names starting with these")
    args = ap.parse_args(argv)

    import art
    from art.defences import postprocessor as art_post
    from art.defences import preprocessor as art_pre
    from art.estimators.certification.randomized_smoothing import NumpyRandomizedSmoothing
    from art.estimators.classification import BlackBoxClassifierNeuralNetwork

    import mlsec_kernels as mk
    import mlsec_kernels.art as ours
    from mlsec_kernels.cli._bench_timing import Timer, Workspace

    warnings.simplefilter("ignore")  # ART's log(0) warnings at the clip bounds
    timer = Timer(Workspace("host"), args.repeats, args.target_ms)
    print(f"Machine: {_machine()}, {os.cpu_count()} logical CPUs, C++ tier {mk.backends()['cpp']}")
    print(
        f"Versions: Python {platform.python_version()}, NumPy {np.__version__}, ART {art.__version__}, "
        f"mlsec_kernels {mk.__version__}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    print(f"Command: {' '.join(['python'] + sys.argv)}  ({datetime.date.today().isoformat()})\n")
    print("| class (float32 input) | shape | ART ms | ours ms | ART / ours | min: ART ms | ours ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, shape, theirs, mine, x in _cases(
        art_pre, art_post, ours, NumpyRandomizedSmoothing, BlackBoxClassifierNeuralNetwork
    ):
        if args.only and not any(name.startswith(o) for o in args.only):
            continue
        np.random.seed(0)
        entries = [timer.prepare(lambda f=f: f(x)) for f in (theirs, mine)]
        timer.rounds(entries)
        (a, b), (a0, b0) = ([e[k] for e in entries] for k in ("median_ms", "min_ms"))
        print(f"| {name} | {shape} | {a:.3f} | {b:.3f} | {a / b:.1f}x | {a0:.3f} | {b0:.3f} |", flush=True)


if __name__ == "__main__":
    main()
