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
    return (np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32), np.uint64(substream & 0xFFFFFFFF), np.uint64(substream >> 32))


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


@numba.njit(inline="always")
def uniform_co(w):
    return f32(w >> _8) * _2M24


@numba.njit(inline="always")
def uniform_oc(w):
    return f32((w >> _8) + _1) * _2M24


@numba.njit(inline="always")
def box_muller(we, wo):
    r = np.sqrt(_M2 * log_f32(uniform_oc(we)))
    s, c = sincos_turn(uniform_co(wo))
    return r * c, r * s


@numba.njit(inline="always")
def word(w0, w1, w2, w3, k):
    return w0 if k == 0 else (w1 if k == 1 else (w2 if k == 2 else w3))
