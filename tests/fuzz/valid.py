"""What the fuzz oracle calls valid: one table per op, written from the docstrings.

``VALID[op]`` maps each argument to a predicate of (value, ctx) that is True when the
argument is acceptable (ctx: every argument by name, defaults filled in); ``RULES[op]`` adds
the checks between arguments, each returning the names it finds at fault; ``bad_args``
applies both. The rules every ``out`` meets (shape, dtype, writable, overlap) are
predicates.out_bad; a result over TOO_BIG bytes may be refused with a MemoryError.

``PENDING[op]`` names the arguments whose contract other work is changing and ``KNOWN`` the
findings of a known cause: the oracle files their findings under that area, reported but
not failing the suite. Edit this file when an op's contract changes (the dtypes of
IMAGE_DTYPES and REALS, the window limit MAX_WINDOW_PIXELS, bit_depth's BITS, the out
rules of predicates.out_bad), and drop a PENDING entry once its contract is settled.
"""

import math
import operator

import numpy as np

from .predicates import (
    CLIP,
    LAYOUT,
    NORM,
    SEED,
    as_array,
    bound,
    choice,
    clip_pair,
    finite_real,
    floats,
    integer,
    like,
    ps,
    real,
    strict_bool,
    strict_int,
    truthy,
)

F = ("float32", "float64")
# every real integer dtype, as python/array.hpp's Dt lists them (float16 and bool are not)
INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
REALS = F + INTS
IMAGE_DTYPES = {"median_filter": REALS, "non_local_means": ("float32", "uint8"), "bit_depth": REALS}
BITS = (1, 64)  # as ART's FeatureSqueezing takes them
MAX_WINDOW_PIXELS = 1 << 20  # median_filter: h * w (mlsec_kernels._constants)
TOO_BIG = 1 << 33  # bytes: more than run.py's workers may allocate (8 GiB)


# bit_depth on float32 data: lo, hi and hi - lo must be finite in float32 (ART's order
# normalises there), else the call is refused.
def _wide_clip(c):
    a, clip = as_array(c["x"]), c["clip"]
    if a is None or a.dtype.kind != "f" or a.itemsize != 4 or clip is None:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        lo, hi = (np.float32(_f(v)) for v in clip)
        return not (np.isfinite(lo) and np.isfinite(hi) and np.isfinite(hi - lo))


def _f(v):
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _noise_beyond_f32(c):
    a = as_array(c["p"])
    ok = isinstance(c["scale"], (int, float, np.integer, np.floating))
    return ok and a is not None and a.dtype.kind == "f" and a.itemsize == 4 and _f(c["scale"]) > 3.4e37


def _zero_in_f32(c):
    a = as_array(c["p"])
    if a is None or a.dtype.kind != "f" or a.itemsize != 4:
        return False
    return any(np.float32(_f(c[k])) == 0 for k in ("beta", "gamma") if isinstance(c[k], (int, float, np.number)))


def _has_inf(c):
    a = as_array(c["x"])
    return a is not None and a.dtype.kind == "f" and bool(np.isinf(a).any())


def _tiny_grad_l2(c):
    g = as_array(c["grad"])
    if g is None or g.dtype.kind != "f" or g.itemsize != 4 or str(c["norm"]).lower() not in ("2", "l2", "2.0"):
        return False
    a = np.abs(g[np.isfinite(g)].astype(np.float64))
    return a.size > 0 and 0 < a.max() < 1e-18


def _huge_h_and_data(c):
    a = as_array(c["x"])
    if a is None or a.dtype.kind != "f" or not isinstance(c["h"], (int, float, np.integer, np.floating)):
        return False
    v = np.abs(a[np.isfinite(a)].astype(np.float64))
    return _f(c["h"]) > 1e19 and v.size > 0 and v.max() > 1e18


ALWAYS = lambda c: True  # noqa: E731
# Findings of a known cause outside argument checking: the oracle files them under that
# area. (op or None for any, message pattern, area, ctx -> whether the case is one of them)
KNOWN = [
    # Numba's cache fails to save some overloads (a vanished weak reference while pickling
    # the index): the call raises instead of running, and every process compiles again.
    (None, r"ReferenceError", "numba cache: ReferenceError saving an overload", ALWAYS),
    # scale above float32's max / 10 on float32 scores: scale * z overflows to inf for some
    # normal draws z, and a renormalised row holding inf is NaN (the float64 reference's is
    # finite).
    ("output_noise", r"NaN where|differs from", "output gaussian_noise: scale * z beyond float32", _noise_beyond_f32),
    # inf in the data: the reference's weights are NaN (inf - inf), the kernels give +-inf.
    ("non_local_means", r"differs from the reference", "non_local_means: inf in the data", _has_inf),
    # h beyond ~1e22 / template_size: c = 1 / (t**2 h**2) is 0 in float32, and a squared
    # distance beyond float32 (data above ~1e19) is inf: 0 * inf = NaN weights (the float64
    # reference's weights are ~1).
    ("non_local_means", r"NaN where|differs from", "non_local_means: huge h and data", _huge_h_and_data),
    # beta or gamma below float32's range round to 0 for float32 scores: NaN from 0 * inf.
    ("reverse_sigmoid", r"NaN where", "reverse_sigmoid: beta or gamma 0 in float32", _zero_in_f32),
    # An L2 step's float32 gradient below 1e-18: its squared norm underflows (0 or a few
    # denormals), so g / ||g|| is inf or far from unit length (docs/projections.md's loss of
    # precision of the L2 sums, in float32).
    ("pgd_step", r"differs from the reference|NaN where", "pgd_step: a float32 L2 gradient below 1e-18", _tiny_grad_l2),
]

# Arguments whose contract is being changed elsewhere: none at present.
PENDING = {}


def image_dims(c, nd=(4,)):
    """(n, ch, h, w) of x in c's layout, or None."""
    a = as_array(c["x"])
    if a is None or a.ndim not in nd or c.get("layout") not in ("NCHW", "NHWC"):
        return None
    s = a.shape
    return (s[0], s[-3], s[-2], s[-1]) if c["layout"] == "NCHW" else (s[0], s[-1], s[-3], s[-2])


def _deflection_blocks(v, c):
    """N * C * deflections <= 2**63: the blocks pixel_deflection's stream counter holds."""
    dims = image_dims(c)
    if dims is None:
        return True
    n, ch, _, _ = dims
    return operator.index(v) * n * ch <= 2**63


def _window_size(v, c):
    """(h, w) or one int for both: each >= 1, h * w <= MAX_WINDOW_PIXELS (any image size:
    the edges extend the image)."""
    pair = v if isinstance(v, (tuple, list)) else (v, v)
    if len(pair) != 2 or not all(integer(s, 1) for s in pair):
        return False
    return operator.index(pair[0]) * operator.index(pair[1]) <= MAX_WINDOW_PIXELS


def _box_order(c):
    """project: lo <= hi everywhere, neither NaN (each bound already valid alone)."""
    lo, hi = c["lo"], c["hi"]
    if not (bound(lo, c) and bound(hi, c)):
        return set()
    lo, hi = (
        np.asarray(_f(v) if real(v) else (d if v is None else v), np.float64) for v, d in ((lo, -np.inf), (hi, np.inf))
    )
    with np.errstate(invalid="ignore"):
        return set() if np.all(lo <= hi) else {"lo", "hi"}


def _rrp(c):
    d = image_dims(c)
    if d is None or not integer(c["out_size"]):
        return set()
    bad = {"x"} if d[2] < 1 or d[3] < 1 else set()
    if operator.index(c["out_size"]) < max(d[2], d[3]):
        bad.add("out_size")
    m = c["min_size"]
    if m is not None and integer(m) and not 1 <= operator.index(m) <= operator.index(c["out_size"]):
        bad.add("min_size")
    return bad


def _deflect(c):
    d = image_dims(c)
    return {"x"} if d is not None and (d[2] < 1 or d[3] < 1) else set()


def _top_k(c):
    a = as_array(c["p"])
    if a is None or a.ndim != 2 or not integer(c["k"]):
        return set()
    return set() if 1 <= operator.index(c["k"]) <= a.shape[1] else {"k"}


def _offset(c):
    s = c.get("shape", c.get("n"))
    try:
        size = math.prod((operator.index(s),) if np.ndim(s) == 0 else (operator.index(v) for v in s))
    except TypeError:
        return set()
    return {"offset"} if strict_int(c["offset"]) and operator.index(c["offset"]) + size > 2**66 else set()


def _rng_dtype(v, c):
    return v is None or (isinstance(v, (str, type, np.dtype)) and _dtype_in(v, F))


def _dtype_in(v, names):
    try:
        return np.dtype(v) in [np.dtype(d) for d in names]
    except TypeError:
        return False


def _rng_shape(v, c):
    if isinstance(v, (tuple, list)):
        return all(integer(s, 0, 2**63 - 1) for s in v)
    return integer(v, 0, 2**63 - 1)


XF = floats(F)
XR = floats(REALS)
IMG = floats(REALS, (4,))
P2 = floats(F, (2,))
RNG = dict(  # the rng functions take an int seed (or None), not a Generator
    seed=lambda v, c: v is None or strict_int(v, 0, 2**64 - 1),
    substream=lambda v, c: strict_int(v, 0, 2**64 - 1),
    offset=lambda v, c: strict_int(v, 0),
)

VALID = {
    "fgsm": dict(x=XF, grad=like("x"), eps=ps("x"), targeted=lambda v, c: strict_bool(v), clip=CLIP),
    "project": dict(delta=XF, eps=ps("delta"), norm=NORM, lo=bound, hi=bound),
    "pgd_step": dict(
        x=XF,
        x0=like("x"),
        grad=like("x"),
        step=ps("x"),
        eps=ps("x"),
        norm=NORM,
        targeted=lambda v, c: strict_bool(v),
        clip=CLIP,
        l1_sparsity=lambda v, c: real(v) and 0.0 <= float(v) <= 1.0,
        projection=choice("exact", "ball_then_clip"),
    ),
    "random_start": dict(x0=XF, eps=ps("x0"), norm=NORM, seed=SEED, clip=CLIP),
    "bit_depth": dict(
        x=floats(IMAGE_DTYPES["bit_depth"]),
        bits=lambda v, c: integer(v, *BITS),
        clip=lambda v, c: clip_pair(v, strict=True) and not _wide_clip(c),
    ),
    "median_filter": dict(
        x=floats(IMAGE_DTYPES["median_filter"], (4, 5)),
        size=_window_size,
        layout=LAYOUT,
        mode=choice("reflect", "mirror"),
    ),
    "non_local_means": dict(
        x=floats(IMAGE_DTYPES["non_local_means"], (4, 5)),
        h=lambda v, c: finite_real(v, 0.0, strict=True),
        template_size=lambda v, c: integer(v, 1, 15) and operator.index(v) % 2 == 1,
        search_size=lambda v, c: integer(v, 1, 45) and operator.index(v) % 2 == 1,
        layout=LAYOUT,
    ),
    "gaussian_noise": dict(x=XR, sigma=ps("x"), seed=SEED, clip=CLIP),
    "uniform_noise": dict(x=XR, eps=ps("x"), seed=SEED, clip=CLIP),
    "random_resize_pad": dict(
        x=IMG,
        out_size=lambda v, c: integer(v, 1, 2**31 - 1),  # its draws are int32
        min_size=lambda v, c: v is None or integer(v, 1),
        seed=SEED,
        interpolation=choice("nearest", "bilinear"),
        per_sample=lambda v, c: truthy(v),
        layout=LAYOUT,
        return_params=lambda v, c: truthy(v),
    ),
    "pixel_deflection": dict(
        x=IMG,
        deflections=lambda v, c: integer(v, 0, 2**63 - 1) and _deflection_blocks(v, c),
        window=lambda v, c: integer(v, 1, 2**63 - 1),
        seed=SEED,
        layout=LAYOUT,
    ),
    "random_raw": dict(n=_rng_shape, **RNG),
    "uniform": dict(shape=_rng_shape, dtype=_rng_dtype, **RNG),
    "normal": dict(shape=_rng_shape, dtype=_rng_dtype, **RNG),
    "reverse_sigmoid": dict(
        p=P2, beta=lambda v, c: finite_real(v, 0.0, True), gamma=lambda v, c: finite_real(v, 0.0, True)
    ),
    "output_noise": dict(
        p=P2,
        scale=lambda v, c: finite_real(v, 0.0),
        seed=SEED,
        renormalize=lambda v, c: isinstance(v, (bool, np.bool_)) or (isinstance(v, str) and v == "auto"),
    ),
    "round": dict(p=P2, decimals=lambda v, c: strict_int(v, 0, 2**63 - 1)),
    "high_confidence": dict(p=P2, cutoff=lambda v, c: finite_real(v, 0.0)),
    "top_k": dict(p=P2, k=lambda v, c: strict_int(v, 1), one_hot=lambda v, c: truthy(v)),
    "class_labels": dict(p=P2),
}

RULES = {
    "project": [_box_order],
    "random_resize_pad": [_rrp],
    "pixel_deflection": [_deflect],
    "top_k": [_top_k],
    "random_raw": [_offset],
    "uniform": [_offset],
    "normal": [_offset],
}

# Arguments whose message may use another word: random_raw's n is a shape.
ALIASES = {"n": ("n", "shape")}


def bad_args(op, ctx):
    """The arguments of ctx (name -> value, defaults filled in) that the table refuses,
    and the words a refusal may name for them (an argument that must be like another
    may be reported as the other's mismatch)."""
    bad, words = set(), set()
    for name, ok in VALID[op].items():
        try:
            good = ok(ctx[name], ctx)
        except Exception:
            good = False
        if not good:
            bad.add(name)
            words |= set(ALIASES.get(name, (name,))) | ({ok.peer} if hasattr(ok, "peer") else set())
    for rule in RULES.get(op, ()):
        try:
            found = rule(ctx)
        except Exception:
            found = set()
        bad |= found
        for name in found:
            words |= set(ALIASES.get(name, (name,)))
    return bad, words
