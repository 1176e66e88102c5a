"""Numba port of cpp/non_local_means.hpp (the per-pixel order of cuda/non_local_means.cu,
on a mirrored copy of each plane)."""

import math

import numpy as np
from numba import prange

from ._util import jit_pair, parts
from .fmath import exp_f32
from .median_filter import edge_index, planes4

f32 = np.float32
_F32_MAX = float(np.finfo(np.float32).max)


def _nlm(x, c, rt, rs, out, u8, nparts):
    P, H, W, C = x.shape
    m = rt + rs
    planes = P * C
    for part in prange(nparts):
        pad = np.empty((H + 2 * m, W + 2 * m), dtype=np.float32)
        for pc in range(planes * part // nparts, planes * (part + 1) // nparts):
            p, ch = pc // C, pc % C
            for a in range(H + 2 * m):  # the plane, mirrored (BORDER_REFLECT_101)
                for b in range(W + 2 * m):
                    pad[a, b] = f32(x[p, edge_index(a - m, H, True), edge_index(b - m, W, True), ch])
            for i in range(H):
                for j in range(W):
                    num = f32(0.0)
                    den = f32(0.0)
                    for dy in range(-rs, rs + 1):
                        for dx in range(-rs, rs + 1):
                            s = f32(0.0)
                            for ux in range(-rt, rt + 1):
                                col = f32(0.0)
                                for uy in range(-rt, rt + 1):
                                    e = pad[m + i + uy, m + j + ux] - pad[m + i + dy + uy, m + j + dx + ux]
                                    col += e * e
                                s += col
                            wgt = exp_f32(-(s * c))
                            num += wgt * pad[m + i + dy, m + j + dx]
                            den += wgt
                    v = num / den
                    if u8:
                        v = np.rint(v)
                        v = f32(0.0) if v < f32(0.0) else (f32(255.0) if v > f32(255.0) else v)
                    out[p, i, j, ch] = v


_serial, _parallel = jit_pair(_nlm)


def non_local_means(x, h, template_size, search_size, layout, out):
    t = float(template_size)
    # 1 / (t^2 h^2) capped at float32's largest: a tiny h must not make 0 * inf (NaN)
    d = t * t * h * h  # 0 when h*h underflows: Python's float division would raise
    c = f32(min(1.0 / d if d else math.inf, _F32_MAX))
    k = parts(x.size * search_size * search_size)
    (_serial if k == 1 else _parallel)(
        planes4(x, layout), c, template_size // 2, search_size // 2, planes4(out, layout), x.dtype == np.uint8, k
    )
