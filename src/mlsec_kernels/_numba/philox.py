"""Numba port of cpp/philox.hpp: Philox4x32-10 and the word-to-number conversions.

Numba widens 32-bit integer arithmetic, so words travel as uint64 holding 32-bit values
and are masked after every operation that can carry past bit 31.
"""

import numba
import numpy as np

from .fmath import log_f32, sincos_turn

f32 = np.float32
_MASK = np.uint64(0xFFFFFFFF)
_M0, _M1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
_W0, _W1 = np.uint64(0x9E3779B9), np.uint64(0xBB67AE85)
_32, _8, _1 = np.uint64(32), np.uint64(8), np.uint64(1)
_2M24 = f32(5.9604644775390625e-8)
_M2 = f32(-2.0)


def key(seed, substream):
    """(k0, k1, s0, s1) as uint64 words, the C++ Philox struct."""
    return (
        np.uint64(seed & 0xFFFFFFFF),
        np.uint64(seed >> 32),
        np.uint64(substream & 0xFFFFFFFF),
        np.uint64(substream >> 32),
    )


@numba.njit(inline="always")
def block(b, k0, k1, s0, s1):
    """The four words of block b (uint64) of the stream keyed (k0, k1), substream (s0, s1)."""
    c0, c1, c2, c3 = b & _MASK, b >> _32, s0, s1
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _32) ^ c1 ^ k0, p1 & _MASK, (p0 >> _32) ^ c3 ^ k1, p0 & _MASK
    return c0, c1, c2, c3


# The integers (at most 2^24) convert from int32, exactly as from the C++ u32: from the
# uint64 that Numba's arithmetic gives, vector loops of them run at half width.
@numba.njit(inline="always")
def uniform_co(w):
    return f32(np.int32(w >> _8)) * _2M24


@numba.njit(inline="always")
def uniform_oc(w):
    return f32(np.int32((w >> _8) + _1)) * _2M24


@numba.njit(inline="always")
def box_muller(we, wo):
    r = np.sqrt(_M2 * log_f32(uniform_oc(we)))
    s, c = sincos_turn(uniform_co(wo))
    return r * c, r * s


@numba.njit(inline="always")
def words4(w0, w1, w2, w3):
    """A block's words as they are (visit's conv for raw words)."""
    return w0, w1, w2, w3


@numba.njit(inline="always")
def normals4(w0, w1, w2, w3):
    """The four standard normals of a block (cpp normals_of)."""
    z0, z1 = box_muller(w0, w1)
    z2, z3 = box_muller(w2, w3)
    return z0, z1, z2, z3


GROUP = 64  # blocks per batch: the loops below vectorise across blocks (SoA words)


@numba.njit(inline="always")
def scratch_for(dtype):
    """visit's buffers: words, values by word, values in stream order."""
    return np.empty((4, GROUP), np.uint32), np.empty((4, GROUP), dtype), np.empty(4 * GROUP, dtype)


@numba.njit(inline="always")
def copy_emit(out, i0, vals, f0, count):
    """visit's emit that stores the values: out[i0 + j] = vals[f0 + j]."""
    # unsigned indices: with signed ones Numba's negative-index wraparound makes the copy
    # a gather and scatter wherever LLVM cannot prove i0, f0 >= 0 (a row length not known
    # at compile time: 30% of random_start's normals)
    for j in range(count):
        out[np.uint64(i0 + j)] = vals[np.uint64(f0 + j)]


def converter(conv):
    """visit's conversion of m blocks' words w (4, m) to values z (4, m) by conv(w0, w1,
    w2, w3) -> four values, compiled on its own: inlined into visit's loop nest, LLVM
    stops vectorising it.

    Made once per conv at import and called by name, never handed over as a value: a
    compiled function passed as an argument has a Numba type tied to this process's
    dispatcher object, so an on-disk cache entry keyed by it never matches in another
    process (every process compiles and adds entries; an index written by one fails to
    load in the next with "underlying object has vanished"), and a function value lowered
    as a constant makes its caller uncacheable altogether."""

    @numba.njit(nogil=True)
    def convert(w, z, m):
        for i in range(m):
            z[0, i], z[1, i], z[2, i], z[3, i] = conv(w[0, i], w[1, i], w[2, i], w[3, i])

    return convert


words = converter(words4)
normals = converter(normals4)


@numba.njit(inline="always")
def visit(conv, emit, ctx, k0, k1, s0, s1, b, lane, length, scratch):
    """Stream elements 4*b + lane + i for i in [0, length), a batch of blocks at a time:
    conv, a converter() (a module-level name in the caller, not a kernel argument), gives
    the blocks' values; emit(ctx, i0, vals, f0, count)
    takes local elements i0 .. i0+count-1, which are vals[f0 .. f0+count-1].
    scratch = scratch_for(dtype of conv's values). (cpp philox_span: the same walk, SoA
    batches instead of SIMD groups.)"""
    w, z, flat = scratch
    nblocks = (lane + length + 3) // 4
    q = 0
    while q < nblocks:
        m = min(GROUP, nblocks - q)
        bq = b + np.uint64(q)
        for i in range(m):
            w[0, i], w[1, i], w[2, i], w[3, i] = block(bq + np.uint64(i), k0, k1, s0, s1)
        conv(w, z, m)
        for i in range(m):
            flat[4 * i], flat[4 * i + 1], flat[4 * i + 2], flat[4 * i + 3] = z[0, i], z[1, i], z[2, i], z[3, i]
        i0 = max(0, 4 * q - lane)
        i1 = min(length, 4 * (q + m) - lane)
        emit(ctx, i0, flat, i0 + lane - 4 * q, i1 - i0)
        q += m
