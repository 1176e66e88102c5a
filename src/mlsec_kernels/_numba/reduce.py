"""Numba port of cpp/reduce.hpp: the canonical per-row sum (one term, K = 1).

A row of d terms is cut into 1024-element chunks; in a chunk lane l (0..31) adds the
terms of elements l, l+32, ... in order from 0.0, the lanes fold by halving, and the row
adds chunk sums in chunk order. Same bits as the C++ and CUDA sums.
"""
import numba
import numpy as np

LANES = 32
CHUNK = 1024


@numba.njit(inline="always")
def row_sum(term, ctx, d):
    """Canonical sum of term(ctx, j) for j in [0, d); term returns a float64."""
    acc = np.empty(LANES, dtype=np.float64)
    total = 0.0
    for c in range(0, d, CHUNK):
        j1 = min(d, c + CHUNK)
        acc[:] = 0.0
        j = c
        while j + LANES <= j1:
            for lane in range(LANES):
                acc[lane] += term(ctx, j + lane)
            j += LANES
        for lane in range(j1 - j):
            acc[lane] += term(ctx, j + lane)
        h = LANES // 2
        while h > 0:
            for lane in range(h):
                acc[lane] += acc[lane + h]
            h //= 2
        total += acc[0]
    return total
