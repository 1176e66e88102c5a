"""Numba port of cpp/fgsm.hpp."""

from numba import prange

from ._util import flat2, jit_pair, parts, per_row


def _fgsm(x, g, s, lo, hi, out, nparts):
    n, d = x.shape
    total = n * d
    for p in prange(nparts):
        i, end = total * p // nparts, total * (p + 1) // nparts
        while i < end:
            r = i // d
            j0 = i - r * d
            j1 = min(d, j0 + end - i)
            sr = s[r]
            # 1-D slices and a 0-based loop: LLVM vectorises this one (2-D indexing in the
            # inner loop kept it scalar, 4x slower than a plain prange loop).
            xr, gr, orow = x[r, j0:j1], g[r, j0:j1], out[r, j0:j1]
            for j in range(j1 - j0):
                # x + s*sign(g), with sign(0) = 0 and sign(NaN) = NaN as in the C++ signv
                gv = gr[j]
                v = xr[j] + sr if gv > 0 else (xr[j] - sr if gv < 0 else xr[j] + sr * gv)
                orow[j] = lo if v < lo else (hi if v > hi else v)
            i += j1 - j0


_serial, _parallel = jit_pair(_fgsm)


def fgsm(x, grad, eps, targeted, lo, hi, out):
    x2, g2, o2 = flat2(x), flat2(grad), flat2(out)
    t = x.dtype.type
    s = per_row(eps, x2.shape[0], x.dtype)
    if targeted:
        s = -s
    k = parts(x.size)
    (_serial if k == 1 else _parallel)(x2, g2, s, t(lo), t(hi), o2, k)
