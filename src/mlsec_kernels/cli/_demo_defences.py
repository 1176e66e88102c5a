"""The demo's defence sections that use the randomised-defence and output-defence
modules: randomized smoothing, and model extraction against an API."""

from __future__ import annotations

import numpy as np

from .. import attacks as A
from .. import rng as _rng
from ._demo_model import MLP

RADII = (0.0, 0.25, 0.5, 0.75)
# The attacker's final copy: larger than the model and trained to fit its answers, as
# extraction attacks do (DAWN's watermark shows in a copy that fits what it was told).
COPY_HIDDEN, COPY_EPOCHS = 128, 400


class Missing(Exception):
    """(module name, import error): the section cannot run in this installation."""


def _need(name):
    import importlib

    try:
        return importlib.import_module(f"mlsec_kernels.{name}")
    except ImportError as e:
        raise Missing(f"mlsec_kernels.{name}", e) from None


def section_smoothing(m, data, quick, seed, bar):
    smoothing = _need("smoothing")
    sigma, copies = 0.25, 4
    x, y = data["x_train"], data["y_train"]
    # Cohen et al. train the base classifier under the same noise it is smoothed with.
    xa = np.repeat(x, copies, axis=0)
    xa += sigma * _rng.normal(xa.shape, seed=seed, substream=1, dtype=np.float32)
    base = MLP(64, 10, hidden=32, seed=seed).fit(xa, np.repeat(y, copies), epochs=20)
    bar.step("noise-trained base model")
    k, n0, n = (60, 64, 500) if quick else (200, 100, 10000)
    xt, yt = data["x_test"][:k], data["y_test"][:k]
    labels, radii = smoothing.certify(
        base.logits, xt, sigma, n0, n, alpha=0.001, batch_size=1000, seed=seed, progress=False
    )
    bar.step("randomized smoothing")
    right = labels == yt
    return {
        "sigma": sigma,
        "n0": n0,
        "n": n,
        "alpha": 0.001,
        "n_images": k,
        "base_clean_accuracy": float(np.mean(base.predict(xt).argmax(1) == yt)),
        "abstain_rate": float(np.mean(labels == smoothing.ABSTAIN)),
        "certified_accuracy": {str(r): float(np.mean(right & (radii >= r))) for r in RADII},
    }


def _steal(api, x_seed, budget, seed, monitor=None, hidden=COPY_HIDDEN, epochs=COPY_EPOCHS):
    """Papernot et al.'s (AsiaCCS 2017) Jacobian augmentation: query, train a copy on the
    answers, step every known point towards its answered class on the copy, repeat until
    the query budget is spent; the final copy (``hidden`` units, ``epochs``) is trained on
    all the answers. Returns (copy, queries, answers)."""
    xs, ps = [], []
    new = x_seed
    while True:
        new = new[: budget - sum(len(v) for v in xs)]
        p = np.asarray(api(new), np.float64)
        if monitor is not None:
            monitor.observe("attacker", new, p.argmax(1))
        xs.append(new)
        ps.append(p)
        X, P = np.concatenate(xs), np.concatenate(ps)
        soft = P / np.maximum(P.sum(1, keepdims=True), 1e-12)
        if len(X) >= budget:
            return MLP(64, 10, hidden=hidden, seed=seed).fit(X, None, epochs=epochs, soft=soft), X, P
        guide = MLP(64, 10, hidden=32, seed=seed).fit(X, None, epochs=40, soft=soft)
        new = A.fgsm(guide.loss_grad, X, P.argmax(1), 0.1, targeted=True).x_adv


def _agreement(a, b, x):
    return float(np.mean(a.predict(x).argmax(1) == b.predict(x).argmax(1)))


def section_extraction(m, data, quick, seed, bar):
    output = _need("output")
    budget, n_seed = (200, 25) if quick else (400, 50)
    xt, yt = data["x_test"], data["y_test"]
    x_seed = data["x_pool"][:n_seed]
    guard = output.Guard([output.GaussianNoise(scale=0.2, seed=seed + 1), output.TopK(1)])
    wm = output.Watermark(key=b"mlsec-kernels demo", rate=0.05)
    monitor = output.ExtractionMonitor()
    res = {"budget": budget, "seed_images": n_seed, "method": "Jacobian augmentation (Papernot et al. 2017)"}
    copies = {}
    for name, api, mon in (
        ("plain", m.predict, monitor),
        ("guard", lambda q: guard(m.predict(q)), None),
        ("watermark", lambda q: wm.apply(q, m.predict(q))[0], None),
    ):
        copy, X, P = _steal(api, x_seed, budget, seed, mon)
        copies[name] = (copy, X, P)
        res[name] = {
            "agreement": _agreement(copy, m, xt),
            "copy_accuracy": float(np.mean(copy.predict(xt).argmax(1) == yt)),
        }
        bar.step(f"extraction: {name} API")
    res["guard"]["steps"] = repr(guard)
    _, X, P = copies["watermark"]
    marked = wm.apply(X, m.predict(X))[1]
    res["watermark"]["rate"], res["watermark"]["marked_queries"] = wm.rate, int(marked.sum())
    if marked.any():
        lab = P[marked].argmax(1)
        match, pval = wm.verify(copies["watermark"][0].predict, X[marked], lab, num_classes=10)
        # a model the owner trained independently, on true labels: what verification should not flag
        indep = MLP(64, 10, hidden=32, seed=seed + 7).fit(data["x_pool"], data["y_pool"], epochs=40)
        m2, p2 = wm.verify(indep.predict, X[marked], lab, num_classes=10)
        res["watermark"].update(copy_match=match, copy_p_value=pval, independent_match=m2, independent_p_value=p2)
    for lo in range(0, budget, 50):  # a normal client: natural images, in batches
        monitor.observe("normal", xt[lo : lo + 50][: budget - lo], m.predict(xt[lo : lo + 50][: budget - lo]).argmax(1))
    res["monitor"] = {
        who: {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in monitor.stats(who).items()}
        for who in ("attacker", "normal")
    }
    bar.step("extraction monitor")
    return res
