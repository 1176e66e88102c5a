"""Numba port of cpp/fmath.hpp: float32 log, exp and sin/cos of turns, operation for
operation (every constant and intermediate is float32; Numba does not contract)."""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

f32 = np.float32


@intrinsic
def f32_bits(typingctx, x):
    """The IEEE bits of a float32 as uint32 (C++: memcpy / __float_as_uint)."""
    if x != types.float32:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.uint32(types.float32), codegen


@intrinsic
def f64_bits(typingctx, x):
    """The IEEE bits of a float64 as uint64."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.uint64(types.float64), codegen


@intrinsic
def f32_from_bits(typingctx, u):
    """The float32 with IEEE bits u (uint32)."""
    if u != types.uint32:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.uint32), codegen


_SQRTH = f32(0.707106781186547524)
_L = [
    f32(c)
    for c in (
        7.0376836292e-2,
        -1.1514610310e-1,
        1.1676998740e-1,
        -1.2420140846e-1,
        1.4249322787e-1,
        -1.6668057665e-1,
        2.0000714765e-1,
        -2.4999993993e-1,
        3.3333331174e-1,
    )
]
_L0, _L1, _L2, _L3, _L4, _L5, _L6, _L7, _L8 = _L
_LN2_LO, _LN2_HI, _HALF, _ONE, _ZERO = f32(-2.12194440e-4), f32(0.693359375), f32(0.5), f32(1.0), f32(0.0)
_E = [
    f32(c)
    for c in (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1)
]
_E0, _E1, _E2, _E3, _E4, _E5 = _E
_LOG2E, _XMIN, _XMAX = f32(1.44269504088896341), f32(-87.0), f32(88.0)
_PIO2, _TWO, _THREE, _FOUR = f32(1.57079632679489662), f32(2.0), f32(3.0), f32(4.0)
_S0, _S1, _S2 = f32(-1.9515295891e-4), f32(8.3321608736e-3), f32(-1.6666654611e-1)
_C0, _C1, _C2 = f32(2.443315711809948e-5), f32(-1.388731625493765e-3), f32(4.166664568298827e-2)


@numba.njit(inline="always")
def log_f32(x):
    b = f32_bits(x)
    e = np.int64(b >> np.uint32(23)) - 126
    m = f32_from_bits(np.uint32((b & np.uint32(0x007FFFFF)) | np.uint32(0x3F000000)))
    low = m < _SQRTH  # branch-free, as in C++, so loops of it vectorise
    e -= np.int64(low)
    m = (m + m if low else m) - _ONE
    z = m * m
    y = _L0
    y = y * m + _L1
    y = y * m + _L2
    y = y * m + _L3
    y = y * m + _L4
    y = y * m + _L5
    y = y * m + _L6
    y = y * m + _L7
    y = y * m + _L8
    y = y * m * z
    fe = f32(np.int32(e))  # int as in C++: converted from int64, vector loops run at half width
    y = y + _LN2_LO * fe
    y = y + -_HALF * z
    return (m + y) + _LN2_HI * fe


@numba.njit(inline="always")
def exp_f32(x):
    x = _XMIN if x < _XMIN else (_XMAX if x > _XMAX else x)
    n = np.floor(_LOG2E * x + _HALF)
    r = x - n * _LN2_HI
    r = r - n * _LN2_LO
    z = r * r
    p = _E0
    p = p * r + _E1
    p = p * r + _E2
    p = p * r + _E3
    p = p * r + _E4
    p = p * r + _E5
    p = p * z + r + _ONE
    return p * f32_from_bits(np.uint32((np.int64(n) + 127) << 23))


@numba.njit(inline="always")
def sincos_turn(u):
    """(sin 2 pi u, cos 2 pi u) for u in [0, 1)."""
    t = u * _FOUR
    q = np.floor(t + _HALF)
    x = (t - q) * _PIO2
    z = x * x
    ps = _S0
    ps = ps * z + _S1
    ps = ps * z + _S2
    sx = ps * z * x + x
    pc = _C0
    pc = pc * z + _C1
    pc = pc * z + _C2
    cx = (pc * z * z - _HALF * z) + _ONE
    odd = (q == _ONE) | (q == _THREE)
    ss = cx if odd else sx
    cc = sx if odd else cx
    s = -ss if (q == _TWO) | (q == _THREE) else ss
    c = -cc if (q == _ONE) | (q == _TWO) else cc
    return s, c
