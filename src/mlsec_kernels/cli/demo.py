"""``mlsec-kernels demo``: the library at work on real data, offline, in about a minute.

On scikit-learn's 8x8 digits (shipped inside the package: nothing is downloaded) it trains
a one-hidden-layer NumPy MLP and measures, on the held-out images:

1. attacks: clean accuracy, robust accuracy under FGSM and PGD (inf and L2) at a few eps,
   the black-box Square Attack's success rate and median queries;
2. feature squeezing: the detector's detection rate on successful PGD examples, its
   threshold set at 5% false positives on training images (and the rate measured on the
   test images);
3. randomized smoothing: certified accuracy at a few L2 radii;
4. model extraction: copies trained on the API's answers within a query budget, their
   agreement with the model with and without an output Guard, the watermark's
   verification of a copy, the extraction monitor's verdict on the attacker and on a
   normal client;
5. adaptive evaluation (with PyTorch): each input defence's robust accuracy under PGD on
   the undefended model and under BPDA+EOT PGD on the defended one, side by side;
6. the backends used and the time of each part.

Every number in the report is measured by the run; a section whose module is missing from
this installation says so instead of reporting anything.
"""

from __future__ import annotations

import time

import numpy as np

from .. import attacks as A
from ._demo_model import MLP

SECTIONS = ("attacks", "squeeze", "smoothing", "extraction", "adaptive")
EPS_INF = (0.05, 0.1, 0.2)
EPS_L2 = (0.25, 0.5, 1.0)


def load(seed=0):
    """Digits as (N, 1, 8, 8) float32 in [0, 1], split into victim-train, attacker pool
    and test sets (fixed permutation)."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    o = np.random.default_rng(seed).permutation(len(x))  # the split, not an attack's randomness
    tr, pool, te = o[:1000], o[1000:1400], o[1400:]
    return dict(
        x_train=x[tr], y_train=d.target[tr], x_pool=x[pool], y_pool=d.target[pool], x_test=x[te], y_test=d.target[te]
    )


def _accuracy(model, x, y):
    return float(np.mean(model.predict(x).argmax(1) == y))


def section_attacks(m, data, quick, seed, bar):
    x, y = data["x_test"], data["y_test"]
    res = {"n_test": int(len(x)), "clean_accuracy": _accuracy(m, x, y), "fgsm": {}, "pgd_inf": {}, "pgd_l2": {}}
    steps = 10 if quick else 20
    for e in EPS_INF:
        r = A.fgsm(m.loss_grad, x, y, e, predict=m.predict)
        res["fgsm"][str(e)] = _accuracy(m, r.x_adv, y)
        r = A.pgd(m.loss_grad, x, y, e, n_steps=steps, restarts=1 if quick else 2, seed=seed)
        res["pgd_inf"][str(e)] = _accuracy(m, r.x_adv, y)
        bar.step(f"FGSM/PGD-inf eps={e}")
    for e in EPS_L2:
        r = A.pgd(m.loss_grad, x, y, e, norm=2, n_steps=steps, restarts=1 if quick else 2, seed=seed)
        res["pgd_l2"][str(e)] = _accuracy(m, r.x_adv, y)
        bar.step(f"PGD-L2 eps={e}")
    ok = m.predict(x).argmax(1) == y
    n_sq, budget, e = (60, 300, 0.1) if quick else (200, 1000, 0.1)
    xs, ys = x[ok][:n_sq], y[ok][:n_sq]
    r = A.square_attack(m.predict, xs, ys, e, n_queries=budget, seed=seed)
    res["square"] = {
        "eps": e,
        "norm": "inf",
        "n_images": int(len(xs)),
        "budget": budget,
        "success_rate": r.success_rate,
        "median_queries_successful": float(np.median(r.queries[r.success])) if r.success.any() else None,
    }
    bar.step("Square Attack")
    return res


SQUEEZERS = {
    "bit_depth(2)": [("bit_depth", {"bits": 2})],
    "bit_depth(2) + median_filter(2)": [("bit_depth", {"bits": 2}), ("median_filter", {"size": 2})],
}


def section_squeeze(m, data, quick, seed, bar):
    """Xu et al.'s joint detector, and bit depth alone (on 8x8 digits a 2x2 median moves
    clean predictions about as much as the attack does, which raises the joint threshold)."""
    from ..squeeze import SqueezeDetector

    x, y = data["x_test"], data["y_test"]
    ok = m.predict(x).argmax(1) == y
    eps = 0.1
    r = A.pgd(m.loss_grad, x[ok], y[ok], eps, n_steps=10 if quick else 20, seed=seed)
    adv = r.x_adv[r.success]
    res = {"target_fpr": 0.05, "pgd_eps": eps, "n_adversarial": int(len(adv)), "detectors": {}}
    for name, sq in SQUEEZERS.items():
        det = SqueezeDetector(sq).fit(m.predict, data["x_train"], fpr=0.05)
        res["detectors"][name] = {
            "threshold": det.threshold,
            "fpr_test": float(det.detect(m.predict, x).mean()),
            "detection_rate": float(det.detect(m.predict, adv).mean()) if len(adv) else None,
        }
    bar.step("feature squeezing")
    return res


def _missing(name, err):
    return {"available": False, "reason": f"{name} is not in this installation ({err})"}


def _one_blas_thread():
    """The demo's matrices are tiny: BLAS threads only add synchronisation, and on a busy
    machine a spinning OpenBLAS pool slows the demo down a hundredfold."""
    try:
        from threadpoolctl import threadpool_limits  # a scikit-learn dependency
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run(quick=False, seed=0, progress=None):
    """Runs every section; returns the numbers as a dict (what ``--json`` saves)."""
    with _one_blas_thread():
        return _run(quick, seed, progress)


def _run(quick, seed, progress):
    from .. import backends
    from .._progress import Progress

    bar = Progress(23) if progress is None else progress
    times = {}
    t0 = time.perf_counter()
    data = load(seed)
    m = MLP(64, 10, hidden=32, seed=seed).fit(data["x_train"], data["y_train"], epochs=40)
    times["train"] = time.perf_counter() - t0
    bar.step("trained the model")
    rep = {
        "dataset": "scikit-learn digits 8x8",
        "model": "MLP 64-32-10 (NumPy)",
        "quick": bool(quick),
        "seed": seed,
        "sizes": {k[2:]: int(len(v)) for k, v in data.items() if k.startswith("x_")},
    }
    from . import _demo_adaptive as AD
    from . import _demo_defences as D

    parts = {
        "attacks": section_attacks,
        "squeeze": section_squeeze,
        "smoothing": D.section_smoothing,
        "extraction": D.section_extraction,
        "adaptive": AD.section_adaptive,
    }
    for name in SECTIONS:
        t = time.perf_counter()
        try:
            rep[name] = parts[name](m, data, quick, seed, bar)
        except D.Missing as e:
            rep[name] = _missing(*e.args)
        times[name] = time.perf_counter() - t
    bar.close()
    rep["runtime"] = {
        "backends": {k: str(v) for k, v in backends().items()},
        "seconds": {k: round(v, 3) for k, v in times.items()},
        "total_seconds": round(time.perf_counter() - t0, 3),
    }
    return rep
