"""White-box drivers: FGSM and PGD around the fused kernels of :mod:`mlsec_kernels.perturb`."""

from __future__ import annotations

import numpy as np

from .. import perturb
from .._arrays import check_norm
from ._common import AttackResult, Bridge, _host, generator, labels, reached

_NORM_NAMES = {0: "inf", 1: 1, 2: 2}


def _evaluate(lg, x, y):
    """(loss, grad, scores) at x: scores from loss_grad's optional third output, else None."""
    out = lg(x, y)
    if not isinstance(out, tuple) or len(out) not in (2, 3):
        raise TypeError("loss_grad must return (loss, grad) or (loss, grad, scores)")
    return out[0], out[1], (out[2] if len(out) == 3 else None)


def _per_sample(xp, v, n, name):
    if np.ndim(v) == 0:
        return float(v)
    v = xp.asarray(v, dtype=xp.float64).reshape(-1)
    if v.shape[0] != n:
        raise ValueError(f"{name} must be a scalar or hold one value per sample ({n}), got {v.shape[0]}")
    return v


def fgsm(loss_grad, x, y, eps, *, norm="inf", targeted=False, clip=(0.0, 1.0), predict=None, projection="exact"):
    """Fast gradient method: one step of size ``eps`` from ``x`` (Goodfellow et al., ICLR
    2015): ``sign(grad)`` for ``norm="inf"`` (:func:`mlsec_kernels.fgsm`), the normalised
    (2) or sparse (1) steepest-ascent direction of :func:`mlsec_kernels.pgd_step` otherwise,
    projected onto the eps-ball intersected with ``clip`` (``projection``: "exact", the
    default, or "ball_then_clip"; see :func:`mlsec_kernels.pgd_step`).

    ``loss_grad(x, y) -> (loss, grad[, scores])``; ``predict(x) -> scores`` (optional)
    gives ``success``. Returns an :class:`AttackResult` (queries: 1 per sample, 2 with
    ``predict``).
    """
    b = Bridge(x)
    xp, x0 = b.xp, b.x
    lg, predict = b.wrap(loss_grad, 2), b.wrap(predict)
    y = labels(xp, y, x0.shape[0])
    code = check_norm(norm)
    perturb._projection(projection)
    _, grad, _ = _evaluate(lg, x0, y)
    eps = _per_sample(xp, eps, x0.shape[0], "eps")
    if code == 0:
        x_adv = perturb.fgsm(x0, grad, eps, targeted=targeted, clip=clip)
    else:
        x_adv = perturb.pgd_step(
            x0, x0, grad, eps, eps, norm=_NORM_NAMES[code], targeted=targeted, clip=clip, projection=projection
        )
    queries = np.ones(x0.shape[0], np.int64)
    success = None
    if predict is not None:
        success = reached(xp, predict(x_adv), y, targeted)
        queries += 1
    return AttackResult(b.out(x_adv), success, queries)


def pgd(
    loss_grad,
    x,
    y,
    eps,
    *,
    norm="inf",
    step=None,
    n_steps=10,
    restarts=1,
    random_start=True,
    targeted=False,
    clip=(0.0, 1.0),
    early_stop=True,
    predict=None,
    l1_sparsity=0.99,
    seed=None,
    out=None,
    projection="exact",
):
    """Projected gradient descent (Madry et al., ICLR 2018) with restarts and per-sample
    early stopping.

    Each restart starts from :func:`mlsec_kernels.random_start` (or from ``x`` when
    ``random_start=False``) and takes ``n_steps`` fused :func:`mlsec_kernels.pgd_step`
    steps of size ``step`` (default ``2.5 * eps / n_steps``) in the ``norm`` ball
    (``"inf"``, 2 or 1; 1 uses the sparse direction, ``l1_sparsity``). Each step projects
    onto the eps-ball intersected with ``clip`` exactly (``projection="exact"``, the default:
    an iterate whose pixels saturate still uses the whole budget), or onto the ball and then
    clips (``"ball_then_clip"``, earlier releases); :func:`mlsec_kernels.pgd_step` has the
    formulas. Restarts after the first rerun only the samples not yet successful.

    Early stopping needs to know success: ``loss_grad(x, y)`` may return
    ``(loss, grad, scores)`` (scores at the evaluated point, free), or ``predict`` is
    given. A sample stops the moment its iterate is adversarial; the last iterate of a
    restart costs one more call (``predict``'s, else ``loss_grad``'s) to check it. With
    neither, every sample runs every step, nothing is checked and ``success`` is None. ``loss`` per sample (N,) picks, for a sample that never succeeds,
    the restart with the highest final loss (a scalar loss keeps the first restart).

    ``eps`` and ``step`` are scalars or per-sample arrays; ``seed`` an int, None or a
    :class:`mlsec_kernels.Generator` (one substream per restart). Working buffers are
    allocated once per call; rows are compacted only when samples finish. ``out`` (an
    array like ``x``, NumPy or CuPy) receives ``x_adv`` and serves as the iterate buffer,
    so a loop calling ``pgd`` with the same ``out`` does not touch fresh memory.

    Returns an :class:`AttackResult`; ``queries`` counts ``loss_grad`` and ``predict``
    calls per sample.
    """
    b = Bridge(x)
    xp, x0 = b.xp, b.x
    lg, predict = b.wrap(loss_grad, 2), b.wrap(predict)
    n = x0.shape[0]
    y = labels(xp, y, n)
    code = check_norm(norm)
    nm = _NORM_NAMES[code]
    perturb._projection(projection)
    n_steps, restarts = int(n_steps), int(restarts)
    if n_steps < 1 or restarts < 1:
        raise ValueError("n_steps and restarts must be >= 1")
    eps = _per_sample(xp, eps, n, "eps")
    step = _per_sample(xp, 2.5 * eps / n_steps if step is None else step, n, "step")
    gen = generator(seed)

    # Every row of x_adv is written by the first restart; when no sample stopped early its
    # iterate buffer becomes x_adv (a swap, no copy). The origin is x itself while all rows run.
    x_adv, cur_buf, org_buf = xp.empty_like(x0), _out(xp, out, x0), None
    success = np.zeros(n, bool)
    best = np.full(n, -np.inf)
    queries = np.zeros(n, np.int64)
    todo, known = np.arange(n), False
    for r in range(restarts):
        idx, k = todo, todo.size
        if not k:
            break
        if org_buf is None and k < n:
            org_buf = xp.empty_like(x0)
        kd = xp.asarray(idx)
        cur = cur_buf[:k]
        if k == n:
            org, yc, ec, sc = x0, y, eps, step
        else:
            org = org_buf[:k]
            xp.take(x0, kd, axis=0, out=org)
            yc, ec, sc = y[kd], _rows(eps, kd), _rows(step, kd)
        if random_start:
            perturb.random_start(org, ec, norm=nm, seed=gen, clip=clip, out=cur)
        else:
            cur[...] = org
        calls, has_scores = 0, predict is not None
        for _ in range(n_steps):
            loss, grad, scores = _evaluate(lg, cur, yc)
            calls += 1
            has_scores |= scores is not None
            if early_stop and scores is not None:
                done = _host(reached(xp, scores, yc, targeted))
                if done.any():
                    known = True
                    queries[idx] += calls
                    calls = 0
                    x_adv[xp.asarray(idx[done])] = cur[xp.asarray(np.flatnonzero(done))]
                    success[idx[done]] = True
                    keep = np.flatnonzero(~done)
                    idx, k = idx[keep], keep.size
                    if not k:
                        break
                    kd = xp.asarray(keep)  # rows compacted only when samples finish
                    if org_buf is None:
                        org_buf = xp.empty_like(x0)
                    cur_buf[:k], org_buf[:k] = cur[kd], org[kd]
                    cur, org, yc, grad = cur_buf[:k], org_buf[:k], yc[kd], grad[kd]
                    ec, sc = _rows(ec, kd), _rows(sc, kd)
            perturb.pgd_step(
                cur,
                org,
                grad,
                sc,
                ec,
                norm=nm,
                targeted=targeted,
                clip=clip,
                l1_sparsity=l1_sparsity,
                projection=projection,
                out=cur,
            )
        else:
            loss, scores = None, None
            if predict is not None:
                scores = predict(cur)
            elif has_scores:
                loss, _, scores = _evaluate(lg, cur, yc)
            calls += scores is not None
            queries[idx] += calls
            done = np.zeros(k, bool) if scores is None else _host(reached(xp, scores, yc, targeted))
            known |= scores is not None
            if r == 0 and k == n:  # no row stopped early: this iterate is the result so far
                x_adv, cur_buf = cur_buf, x_adv
                _keep_best(xp, None, None, idx, done, loss, best, True)
            else:
                _keep_best(xp, x_adv, cur, idx, done, loss, best, r == 0)
            success[idx[done]] = True
        todo = np.flatnonzero(~success)
    if out is not None and x_adv is not out:
        out[...] = x_adv
        x_adv = out
    return AttackResult(b.out(x_adv), success if known else None, queries)


def _out(xp, out, x0):
    if out is None:
        return xp.empty_like(x0)
    if type(out) is not type(x0) or out.shape != x0.shape or out.dtype != x0.dtype:
        raise ValueError(f"out must be a {type(x0).__name__} of shape {x0.shape} and dtype {x0.dtype}")
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    return out


def _rows(v, kd):
    return v if isinstance(v, float) else v[kd]


def _keep_best(xp, x_adv, cur, idx, done, loss, best, first):
    """Writes this restart's rows: successes always, failures when their per-sample loss
    beats the best restart so far (every row on the first restart)."""
    better = done | first
    if loss is not None and np.ndim(loss) == 1 and np.shape(loss)[0] == idx.size:
        lh = _host(loss).astype(np.float64)
        better |= lh > best[idx]
        best[idx] = np.where(better, lh, best[idx])
    if x_adv is not None and better.any():
        x_adv[xp.asarray(idx[better])] = cur[xp.asarray(np.flatnonzero(better))]
