"""The canonical per-row sum of cpp/reduce.hpp, for the Numba ports.

A row is cut into chunks of 1024; in a chunk, lane l (0..31) adds elements l, l+32, ... in
order, in float64; the lanes fold by halving (16, 8, 4, 2, 1) and the chunk sums add in
order. Each kernel writes its own lane loop (Numba inlines no functors into loops) as

    for c0 in range(0, d, CHUNK):
        for j0 in range(c0, min(d, c0 + CHUNK), LANES):
            for l in range(min(LANES, c1 - j0)):  acc[k, l] += term(j0 + l)
        fold_into(acc, tot)

which adds to each lane in element order, as the C++ does.
"""
import numba

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
