"""The peers ``mlsec-kernels bench`` measures each op against, side by side.

Each peer is the code a user would write without this library, for the same arrays and
parameters: the NumPy expression (the CuPy one on a device), a Numba ``prange`` loop
(Numba's own compiled loop, no mlsec_kernels code), PyTorch eager and ``torch.compile``,
and ART's helpers, each only where installed. ``make(peer, op, kw, a, out, xp)`` returns a
zero-argument callable, or raises :class:`Unavailable` with the reason.
"""

from __future__ import annotations

import importlib.util

import numpy as np


class Unavailable(Exception):
    """This peer cannot run this case here; the message says why."""


def _rows(v, like):
    """A per-sample (N,) array shaped to broadcast over the sample axes of `like`."""
    return v.reshape((-1,) + (1,) * (like.ndim - 1))


def _l2(xp, v):
    return xp.sqrt(xp.sum(v.reshape(v.shape[0], -1) ** 2, axis=1))


def project_l1_sort(xp, delta, eps):
    """Exact Euclidean projection of each row onto the L1 ball of radius eps, by sorting
    (Duchi, Shalev-Shwartz, Singer & Chandra, ICML 2008): the textbook NumPy version."""
    v = delta.reshape(delta.shape[0], -1)
    a = xp.abs(v)
    u = -xp.sort(-a, axis=1)
    css = xp.cumsum(u, axis=1)
    k = xp.arange(1, v.shape[1] + 1, dtype=v.dtype)
    cond = u - (css - eps) / k > 0
    rho = v.shape[1] - 1 - xp.argmax(cond[:, ::-1], axis=1)
    theta = xp.maximum((css[xp.arange(v.shape[0]), rho] - eps) / (rho + 1), 0)
    inside = a.sum(axis=1) <= eps
    theta = xp.where(inside, 0, theta).astype(v.dtype)
    return (xp.sign(v) * xp.maximum(a - theta[:, None], 0)).reshape(delta.shape)


def _project(xp, d, eps, norm, out=None):
    if norm == "inf":
        return xp.clip(d, -eps, eps, out=out)
    if norm == 2:
        scale = xp.minimum(1, eps / xp.maximum(_l2(xp, d), 1e-12)).astype(d.dtype)
        return xp.multiply(d, _rows(scale, d), out=out)
    p = project_l1_sort(xp, d, eps)
    if out is None:
        return p
    out[...] = p
    return out


def _l1_direction(xp, g, sparsity):
    """Sparse L1 descent direction (Tramer & Boneh 2019): sign(g) on the coordinates whose
    |g| reaches the row's `sparsity` quantile, scaled to unit L1 norm."""
    a = xp.abs(g.reshape(g.shape[0], -1))
    q = xp.quantile(a, sparsity, axis=1, keepdims=True)
    keep = a >= q
    e = xp.sign(g.reshape(a.shape)) * keep
    return (e / xp.maximum(keep.sum(axis=1, keepdims=True), 1).astype(g.dtype)).reshape(g.shape)


def numpy_peer(op, kw, a, out, xp):
    """The array-library expression (NumPy on the host, CuPy on a device)."""
    lo, hi = 0.0, 1.0
    if op == "fgsm":
        return lambda: xp.clip(a["x"] + kw["eps"] * xp.sign(a["grad"]), lo, hi, out=out)
    if op == "pgd_step":
        norm, x, x0, g = kw["norm"], a["x"], a["x0"], a["grad"]
        if norm == "inf":
            direction = lambda: xp.sign(g)  # noqa: E731
        elif norm == 2:
            direction = lambda: g / _rows(xp.maximum(_l2(xp, g), 1e-12).astype(g.dtype), g)  # noqa: E731
        else:
            direction = lambda: _l1_direction(xp, g, kw.get("l1_sparsity", 0.99))  # noqa: E731
        return lambda: xp.clip(x0 + _project(xp, x + kw["step"] * direction() - x0, kw["eps"], norm), lo, hi, out=out)
    if op == "project":
        return lambda: _project(xp, a["delta"], kw["eps"], kw["norm"], out)
    if op == "random_start":
        if kw["norm"] != "inf":
            raise Unavailable("the NumPy peer covers norm='inf' only (uniform in the box)")
        x0, eps = a["x0"], kw["eps"]
        rng = xp.random.default_rng(0)
        return lambda: xp.clip(x0 + (rng.random(x0.shape, dtype=x0.dtype) * (2 * eps) - eps), lo, hi, out=out)
    if op in ("rng.uniform", "rng.normal"):
        rng = xp.random.default_rng(0)
        draw = rng.random if op == "rng.uniform" else rng.standard_normal
        return lambda: draw(dtype=out.dtype, out=out)
    if op == "bit_depth":  # Xu et al.'s reference (ART's formula with clip (0, 1)), in float32
        m = out.dtype.type(2 ** kw["bits"] - 1)
        return lambda: xp.divide(xp.rint(xp.multiply(a["x"], m, out=out), out=out), m, out=out)
    if op == "gaussian_noise":
        x, rng, tmp = a["x"], xp.random.default_rng(0), xp.empty_like(a["x"])
        sigma, (nlo, nhi) = x.dtype.type(kw["sigma"]), kw["clip"]
        return lambda: xp.clip(x + sigma * rng.standard_normal(x.shape, dtype=x.dtype, out=tmp), nlo, nhi, out=out)
    if op.startswith("output."):
        return _output_peer(op[7:], kw, a["p"], out, xp)
    raise Unavailable(f"no NumPy peer for {op}")


def _output_peer(op, kw, p, out, xp):
    """ART's post-processors (ReverseSigmoid, GaussianNoise, Rounded, HighConfidence) and
    the top-k / class-label expressions, as NumPy (CuPy) code."""

    def renormalise(q):
        return xp.divide(q, q.sum(axis=1, keepdims=True), out=out)

    if op == "reverse_sigmoid":

        def rs():
            pc = xp.clip(p, 1e-9, 1 - 1e-9)
            r = kw["beta"] * (1.0 / (1.0 + xp.exp(kw["gamma"] * xp.log((1.0 - pc) / pc))) - 0.5)
            return renormalise(xp.clip(p - r, 0.0, 1.0))

        return rs
    if op == "gaussian_noise":
        rng = xp.random.default_rng(0)
        return lambda: renormalise(xp.maximum(p + kw["scale"] * rng.standard_normal(p.shape, dtype=p.dtype), 0))
    if op == "round":
        return lambda: xp.round(p, kw["decimals"], out=out)
    if op == "high_confidence":
        return lambda: xp.multiply(p, p >= xp.float32(kw["cutoff"]), out=out)
    if op == "top_k":

        def top():
            out[...] = 0
            idx = xp.argpartition(-p, kw["k"] - 1, axis=1)[:, : kw["k"]]
            xp.put_along_axis(out, idx, xp.take_along_axis(p, idx, axis=1), axis=1)

        return top
    if op == "class_labels":

        def labels():
            out[...] = 0
            out[xp.arange(p.shape[0]), xp.argmax(p, axis=1)] = 1

        return labels
    raise Unavailable(f"no NumPy peer for output.{op}")


# Numba's own parallel loops: what a Numba user writes for the two simplest ops.
_numba_loops = {}


def _numba_loop(name):
    if not _numba_loops:
        from numba import njit, prange

        @njit(parallel=True, cache=True)
        def fgsm(x, g, eps, lo, hi, out):
            for i in prange(x.size):
                v = x[i] + eps * np.sign(g[i])
                out[i] = min(max(v, lo), hi)

        @njit(parallel=True, cache=True)
        def pgd_inf(x, x0, g, step, eps, lo, hi, out):
            for i in prange(x.size):
                d = min(max(x[i] + step * np.sign(g[i]) - x0[i], -eps), eps)
                out[i] = min(max(x0[i] + d, lo), hi)

        @njit(parallel=True, cache=True)
        def bit_depth(x, m, out):
            for i in prange(x.size):
                out[i] = np.rint(x[i] * m) / m

        _numba_loops.update(fgsm=fgsm, pgd_inf=pgd_inf, bit_depth=bit_depth)
    return _numba_loops[name]


def numba_peer(op, kw, a, out, xp):
    if xp is not np:
        raise Unavailable("host only")
    if importlib.util.find_spec("numba") is None:
        raise Unavailable("numba is not installed")
    t = out.dtype.type
    flat = {k: v.reshape(-1) for k, v in a.items()}
    o = out.reshape(-1)
    if op == "fgsm":
        k = _numba_loop("fgsm")
        return lambda: k(flat["x"], flat["grad"], t(kw["eps"]), t(0), t(1), o)
    if op == "pgd_step" and kw["norm"] == "inf":
        k = _numba_loop("pgd_inf")
        return lambda: k(flat["x"], flat["x0"], flat["grad"], t(kw["step"]), t(kw["eps"]), t(0), t(1), o)
    if op == "bit_depth":
        k = _numba_loop("bit_depth")
        return lambda: k(flat["x"], t(2 ** kw["bits"] - 1), o)
    raise Unavailable("Numba prange peers exist for fgsm, pgd_step norm=inf and bit_depth only")


def _torch():
    if importlib.util.find_spec("torch") is None:
        raise Unavailable("PyTorch is not installed")
    import torch

    return torch


def _torch_expr(torch, op, kw):
    """The PyTorch code for one case: a function of the input tensors (by name) and out."""
    norm, eps = kw.get("norm"), kw.get("eps")

    def per_row(v, like):
        return v.view((-1,) + (1,) * (like.dim() - 1))

    def project(d, out=None):
        if norm == "inf":
            return torch.clamp(d, -eps, eps, out=out)
        n = d.flatten(1).norm(dim=1).clamp_min(1e-12)
        return torch.mul(d, per_row(torch.clamp(eps / n, max=1.0), d), out=out)

    if op == "fgsm":
        return lambda x, grad, out=None: torch.clamp(x + eps * torch.sign(grad), 0.0, 1.0, out=out)
    if op == "pgd_step" and norm in ("inf", 2):

        def pgd(x, x0, grad, out=None):
            if norm == "inf":
                step = torch.sign(grad)
            else:
                step = grad / per_row(grad.flatten(1).norm(dim=1).clamp_min(1e-12), grad)
            return torch.clamp(x0 + project(x + kw["step"] * step - x0), 0.0, 1.0, out=out)

        return pgd
    if op == "project" and norm in ("inf", 2):
        return lambda delta, out=None: project(delta, out)
    if op == "random_start" and norm == "inf":
        return lambda x0, out=None: torch.clamp(x0 + torch.empty_like(x0).uniform_(-eps, eps), 0.0, 1.0, out=out)
    if op == "bit_depth":  # torch.round rounds half to even, like np.rint
        m = float(2 ** kw["bits"] - 1)
        return lambda x, out=None: torch.div(torch.round(x * m), m, out=out)
    if op in ("rng.uniform", "rng.normal"):
        draw = torch.rand if op == "rng.uniform" else torch.randn
        return lambda out=None: draw(out.shape, dtype=out.dtype, device=out.device, out=out)
    if op == "gaussian_noise":
        return lambda x, out=None: torch.clamp(x + kw["sigma"] * torch.randn_like(x), *kw["clip"], out=out)
    raise Unavailable(f"no PyTorch peer for {op} {'norm=' + str(norm) if norm else ''}".strip())


def _tensors(torch, a, out, xp):
    conv = torch.from_numpy if xp is np else (lambda v: torch.as_tensor(v, device="cuda"))
    return {k: conv(v) for k, v in a.items()}, conv(out)


def torch_peer(op, kw, a, out, xp):
    torch = _torch()
    if xp is not np and not torch.cuda.is_available():
        raise Unavailable("this PyTorch build has no CUDA")
    f = _torch_expr(torch, op, kw)
    t, o = _tensors(torch, a, out, xp)
    return lambda: f(**t, out=o)


def torch_compile_peer(op, kw, a, out, xp):
    torch = _torch()
    if op.startswith("rng.") or op in ("random_start", "gaussian_noise"):
        raise Unavailable("torch.compile is not measured on random draws")
    if xp is not np and not torch.cuda.is_available():
        raise Unavailable("this PyTorch build has no CUDA")
    f = torch.compile(_torch_expr(torch, op, kw), dynamic=False)
    t, _ = _tensors(torch, a, out, xp)
    return lambda: f(**t)  # compiled graphs allocate their result (out= breaks fusion)


def art_peer(op, kw, a, out, xp):
    if xp is not np:
        raise Unavailable("host only")
    if importlib.util.find_spec("art") is None:
        raise Unavailable("ART (adversarial-robustness-toolbox) is not installed")
    if op == "bit_depth":
        from art.defences.preprocessor import FeatureSqueezing

        squeeze = FeatureSqueezing(clip_values=(0.0, 1.0), bit_depth=kw["bits"])
        return lambda: np.copyto(out, squeeze(a["x"])[0])
    if op == "median_filter":
        from art.defences.preprocessor import SpatialSmoothing

        smooth = SpatialSmoothing(window_size=kw["size"], channels_first=True)
        return lambda: np.copyto(out, smooth(a["x"])[0])
    if op != "project":
        raise Unavailable("ART's attacks need an estimator (a model); its projection helper is the primitive compared")
    import inspect

    from art.utils import projection

    norm = np.inf if kw["norm"] == "inf" else kw["norm"]
    extra = {"suboptimal": False} if norm == 1 and "suboptimal" in inspect.signature(projection).parameters else {}
    return lambda: np.copyto(out, projection(a["delta"], kw["eps"], norm, **extra))


def scipy_peer(op, kw, a, out, xp):
    """scipy.ndimage.median_filter over each plane: what ART's SpatialSmoothing runs."""
    if xp is not np:
        raise Unavailable("host only")
    if op != "median_filter":
        raise Unavailable(f"no SciPy peer for {op}")
    from scipy import ndimage

    s = kw["size"]
    return lambda: ndimage.median_filter(a["x"], size=(1, 1, s, s), mode="reflect", output=out)


def opencv_peer(op, kw, a, out, xp):
    """OpenCV run plane by plane (its own thread pool): medianBlur, fastNlMeansDenoising."""
    if xp is not np:
        raise Unavailable("host only")
    if importlib.util.find_spec("cv2") is None:
        raise Unavailable("OpenCV (cv2) is not installed")
    import cv2

    planes = a["x"].reshape((-1,) + a["x"].shape[-2:])
    dst = out.reshape(planes.shape)
    if op == "median_filter":
        if kw["size"] not in (3, 5):
            raise Unavailable("cv2.medianBlur takes float32 only with ksize 3 or 5")
        return lambda: [cv2.medianBlur(p, kw["size"], dst=d) for p, d in zip(planes, dst)]
    if op == "non_local_means":
        h, t, s = kw["h"], kw["template_size"], kw["search_size"]
        return lambda: [cv2.fastNlMeansDenoising(p, d, h, t, s) for p, d in zip(planes, dst)]
    raise Unavailable(f"no OpenCV peer for {op}")


HOST_ONLY = ("numba-prange", "art", "scipy", "opencv")  # not tried on device arrays at all

PEERS = {
    "numpy": numpy_peer,
    "numba-prange": numba_peer,
    "torch": torch_peer,
    "torch.compile": torch_compile_peer,
    "art": art_peer,
    "scipy": scipy_peer,
    "opencv": opencv_peer,
}


def make(peer, op, kw, a, out, xp):
    return PEERS[peer](op, kw, a, out, xp)
