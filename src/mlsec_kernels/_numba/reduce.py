"""The canonical per-row sum of cpp/reduce.hpp, for the Numba ports.

A row is cut into chunks of 1024; in a chunk, lane l (0..31) adds elements l, l+32, ... in
order, in float64; the lanes fold by halving (16, 8, 4, 2, 1) and the chunk sums add in
order. Kernels call row_sum or chunk_sums with an inline term(ctx, j) that returns a tuple
of K float64 terms (K <= MAX_K, the length of tot); j arrives as uint64, so a term that
computes with it (not just indexes) converts it first.

Why the loops look as they do (each measured, 150528 floats: 0.09 ms as one flat loop over
acc[k, j & 31], 0.02 ms here):
- the lane accumulators live on the stack (lanes()): LLVM then knows no input aliases
  them, keeps no runtime checks, and vectorises the lane loop;
- the lane loop's trip count is min(32, left), not the constant 32: a constant count is
  fully unrolled before the loop vectoriser runs, and Numba leaves LLVM's SLP vectoriser
  off, so the 32 unrolled scalar chains stay scalar (also when d is a compile-time
  constant, as in a test with a literal size: only speed suffers);
- j is unsigned: a signed index gets Numba's negative-index wraparound, a select that
  turns the contiguous loads into gathers.
"""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 32
CHUNK = 1024
MAX_K = 4  # most sums one term gives (pgd_step's L2 step needs 3)


@intrinsic
def _stack_lanes(typingctx):
    def codegen(context, builder, sig, args):
        # in the entry block: SROA and the vectoriser see a private, fixed-size object
        return cgutils.alloca_once(builder, ir.DoubleType(), size=MAX_K * LANES)

    return types.CPointer(types.float64)(), codegen


@numba.njit(inline="always")
def lanes():
    """(MAX_K, LANES) float64 on the caller's stack; must not outlive the caller."""
    return numba.carray(_stack_lanes(), (MAX_K, LANES))


@numba.njit(inline="always")
def _fold(acc, k):
    h = LANES // 2
    while h > 0:
        for l in range(h):
            acc[k, l] += acc[k, l + h]
        h //= 2
    return acc[k, 0]


@numba.njit(inline="always")
def _add_chunk(term, ctx, j0, j1, acc, tot):
    for k in range(tot.shape[0]):
        for l in range(LANES):
            acc[k, l] = 0.0
    for j in range(j0, j1, LANES):
        for l in range(min(LANES, j1 - j)):
            t = term(ctx, np.uint64(j + l))
            for k in range(len(t)):
                acc[k, l] += t[k]
    for k in range(tot.shape[0]):
        tot[k] += _fold(acc, k)


@numba.njit(inline="always")
def chunk_sums(term, ctx, j0, j1, tot):
    """Adds the sums of the chunks of [j0, j1) (j0 a multiple of CHUNK) to tot (K float64),
    one by one in chunk order: with tot zero and [0, d), the row's canonical sums. (Split
    among threads, each chunk's sum must go to its own slot and the slots add in order.)"""
    acc = lanes()
    for c in range(j0, j1, CHUNK):
        _add_chunk(term, ctx, c, min(j1, c + CHUNK), acc, tot)


@numba.njit(inline="always")
def row_sum(term, ctx, d):
    """Canonical sum of term(ctx, j)[0] for j in [0, d) (a one-term sum)."""
    # on the stack: a heap array made here is loop-invariant to Numba, which hoists it out
    # of a caller's prange loop, and the threads then share one total
    tot = lanes()[0, :1]
    tot[0] = 0.0
    chunk_sums(term, ctx, 0, d, tot)
    return tot[0]
