"""The canonical per-row sum of cpp/reduce.hpp, for the Numba ports.

A row is cut into chunks of 1024; in a chunk, lane l (0..31) adds elements l, l+32, ... in
order, in float64; the lanes fold by halving (16, 8, 4, 2, 1) and the chunk sums add in
order. Chunks start at multiples of 1024, so element j goes to lane j & 31, and each
kernel's loop (Numba inlines no functors into loops) reads

    for j in range(d):
        acc[k, j & 31] += term(j)
        if last_of_chunk(j, d):
            fold_into(acc, tot)

which adds to each lane in element order, as the C++ does.
"""
import numba
import numpy as np

LANES = 32
CHUNK = 1024


@numba.njit(cache=True)
def fold_into(acc, tot):
    """Folds the lane sums acc (K, 32) by halving, adds them to tot (K,), clears acc."""
    for k in range(acc.shape[0]):
        h = LANES // 2
        while h > 0:
            for l in range(h):
                acc[k, l] += acc[k, l + h]
            h //= 2
        tot[k] += acc[k, 0]
        for l in range(LANES):
            acc[k, l] = 0.0


@numba.njit(cache=True, inline="always")
def last_of_chunk(j, d):
    return j & (CHUNK - 1) == CHUNK - 1 or j == d - 1


@numba.njit(inline="always")
def row_sum(term, ctx, d):
    """Canonical sum of term(ctx, j) for j in [0, d) (one term, float64)."""
    acc = np.zeros((1, LANES), dtype=np.float64)
    tot = np.zeros(1, dtype=np.float64)
    for j in range(d):
        acc[0, j & (LANES - 1)] += term(ctx, j)
        if last_of_chunk(j, d):
            fold_into(acc, tot)
    return tot[0]
