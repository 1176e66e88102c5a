"""The ops the fuzz suite calls: how to call each, the result it must give (shape, dtype),
the rule for its ``out``, and its float64 reference with the tolerance its own tests use."""

import inspect
import math
from dataclasses import dataclass

import numpy as np

import mlsec_kernels as mk
from mlsec_kernels import reference as ref

from .predicates import as_array, native


@dataclass(frozen=True)
class Op:
    call: str  # source of the function, e.g. "mk.fgsm"
    arrays: tuple  # the input arrays (their overlap with out is checked)
    ref: object  # ctx -> float64 result (or (result, params)); None: no value check
    tol: object  # (ctx, dtype) -> dict(rtol, atol) | "exact" | "level"
    random: bool = False  # backends must agree to the bit
    out: str = "alias"  # "alias": out may be an input exactly; "disjoint": no overlap with x

    def fn(self):
        obj = mk
        for part in self.call.split(".")[1:]:
            obj = getattr(obj, part)
        return obj


def f64(v, n=None):
    """A per-sample parameter (scalar or array-like) as float64."""
    a = as_array(v)
    return float(v) if a is None or a.ndim == 0 else a.astype(np.float64)


def magnitude(*vals, floor=1.0):
    """The largest finite |value| among the arrays and numbers given (at least floor)."""
    m = floor
    for v in vals:
        if isinstance(v, int) and abs(v) >= 2**1023:
            continue  # beyond float's range: infinite, not a magnitude
        a = as_array(v) if not isinstance(v, (int, float)) else np.asarray(float(v))
        if a is None or a.dtype.kind not in "fiu" or a.size == 0:
            continue
        a = np.abs(a.astype(np.float64))
        a = a[np.isfinite(a)]
        if a.size:
            m = max(m, float(a.max()))
    return m


def clip_of(c):
    """The clip argument as floats (an int beyond float's range as infinity), or None."""
    if c["clip"] is None:
        return None
    lo, hi = c["clip"]
    return tuple(float(v) if abs(v) < 2**1023 else (math.inf if v > 0 else -math.inf) for v in (lo, hi))


def stream(seed, substream=0):
    """(seed, substream) of a seed argument for the reference; None when unpredictable."""
    if seed is None:
        return None
    if hasattr(seed, "next_substream"):
        return seed.seed, seed.next_substream()
    return int(seed), int(substream)


def float_tol(f32, f64_):
    def tol(c, dtype):
        return dict(rtol=f32[0], atol=f32[1]) if dtype == np.float32 else dict(rtol=f64_[0], atol=f64_[1])

    return tol


def scaled(base, *names, weights=None):
    """A float tolerance whose atol grows with the magnitude of the named arguments (each
    times its weight: a noise scale times the largest normal draw, say)."""
    weights = weights or {}

    def tol(c, dtype):
        t = base(c, dtype)
        m = max([1.0] + [magnitude(c[n], floor=0.0) * weights.get(n, 1) for n in names])
        return dict(rtol=t["rtol"], atol=t["atol"] * m)

    return tol


HELPER_TOL = float_tol((2e-6, 2e-6), (1e-12, 1e-12))  # tests/helpers.tol
NOISE_TOL = float_tol((0, 2e-6), (0, 3e-7))  # tests/test_noise.py
# tests/test_random_start.py: 1e-6 / 3e-8 for eps <= 0.1; the draws are float32 in either
# dtype, so float64 results are a float32 rounding of |u| <= eps from the reference
START_TOL = float_tol((0, 1e-6), (0, 3e-7))
RESIZE_TOL = float_tol((0, 3e-7), (0, 1e-15))  # tests/test_random_resize_pad.py
RS_TOL = float_tol((0, 2e-6), (1e-12, 1e-14))  # tests/test_output.py
# tests/test_output.py: rtol 1e-5 (float32); the noise is the stream's float32 normals
# (the reference's are float64): a float32 ulp of scale * |z| in either dtype
ONOISE_TOL = float_tol((1e-5, 1e-6), (1e-12, 1e-6))


def exact_ints(tol):
    """tol for float results; integer results (the dtype kept) equal the reference's."""
    return lambda c, dtype: "exact" if dtype.kind in "iu" else tol(c, dtype)


def _bound(v):
    """project's lo or hi for the reference: None, a float, or the array as float64."""
    a = as_array(v)
    if v is None:
        return None
    if a is None or a.ndim == 0:
        return float(v) if abs(v) < 2**1023 else (math.inf if v > 0 else -math.inf)
    return a.astype(np.float64)


def _norm_str(nm):
    code = ref.perturb.norm_code(nm)
    return {0: "inf", 1: "1", 2: "2"}[code]


def _noise_ref(kind):
    def r(c):
        s = stream(c["seed"])
        if s is None:
            return None
        f = ref.transforms.gaussian_noise if kind == "gaussian" else ref.transforms.uniform_noise
        scale = f64(c["sigma" if kind == "gaussian" else "eps"])
        return f(as_array(c["x"]), scale, seed=s[0], substream=s[1], clip=clip_of(c))

    return r


def _start_ref(c):
    s = stream(c["seed"])
    if s is None:
        return None
    return ref.random_start(
        as_array(c["x0"]), f64(c["eps"]), norm=_norm_str(c["norm"]), seed=s[0], substream=s[1], clip=clip_of(c)
    )


def _rrp_ref(c):
    s = stream(c["seed"])
    if s is None:
        return None
    x = as_array(c["x"])
    h, w = (x.shape[2], x.shape[3]) if c["layout"] == "NCHW" else (x.shape[1], x.shape[2])
    m = max(h, w) if c["min_size"] is None else int(c["min_size"])
    kw = dict(seed=s[0], substream=s[1], per_sample=bool(c["per_sample"]))
    y = ref.transforms.random_resize_pad(
        x, int(c["out_size"]), min_size=m, interpolation=c["interpolation"], layout=c["layout"], **kw
    )
    return (y, ref.transforms.resize_pad_params(len(x), m, int(c["out_size"]), **kw)) if c["return_params"] else y


def _deflect_ref(c):
    s = stream(c["seed"])
    if s is None:
        return None
    x = as_array(c["x"])
    return ref.transforms.pixel_deflection(
        x, int(c["deflections"]), int(c["window"]), seed=s[0], substream=s[1], layout=c["layout"]
    )


def _rng_ref(kind):
    def r(c):
        s = stream(c["seed"], c["substream"])
        if s is None:
            return None
        shape = c.get("shape", c.get("n"))
        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(v) for v in shape)
        if c.get("out") is not None:
            shape = np.shape(as_array(c["out"]))
        kw = dict(seed=s[0], substream=s[1], offset=int(c["offset"]))
        if kind == "random_raw":
            return ref.rng.random_raw(math.prod(shape), **kw).reshape(shape)
        return getattr(ref.rng, kind)(shape, **kw)

    return r


def _output_noise_ref(c):
    s = stream(c["seed"])
    if s is None:
        return None
    p = as_array(c["p"])
    t = p.dtype.type
    z = ref.rng.normal(p.shape, seed=s[0], substream=s[1])
    return ref.output.gaussian_noise(p, float(t(c["scale"])) * z, renormalize=c["renormalize"])


def _median_ref(c):
    x = as_array(c["x"])
    if x.dtype.kind == "f" and np.isnan(x).any():
        return None  # windows holding NaN give an unspecified element of the window
    return ref.median_filter(x, c["size"], layout=c["layout"], mode=c["mode"])


def _x(name):
    return lambda c: as_array(c[name])


OPS = {
    "fgsm": Op(
        "mk.fgsm",
        ("x", "grad"),
        lambda c: ref.fgsm(_x("x")(c), _x("grad")(c), f64(c["eps"]), targeted=bool(c["targeted"]), clip=clip_of(c)),
        scaled(HELPER_TOL, "x", "eps"),
    ),
    "project": Op(
        "mk.project",
        ("delta",),
        lambda c: ref.project(_x("delta")(c), f64(c["eps"]), norm=c["norm"], lo=_bound(c["lo"]), hi=_bound(c["hi"])),
        scaled(HELPER_TOL, "delta", "eps", "lo", "hi"),
    ),
    "pgd_step": Op(
        "mk.pgd_step",
        ("x", "x0", "grad"),
        lambda c: ref.pgd_step(
            _x("x")(c),
            _x("x0")(c),
            _x("grad")(c),
            f64(c["step"]),
            f64(c["eps"]),
            norm=c["norm"],
            targeted=bool(c["targeted"]),
            clip=clip_of(c),
            l1_sparsity=float(c["l1_sparsity"]),
            projection=c["projection"],
        ),
        scaled(HELPER_TOL, "x", "x0", "step", "eps"),
    ),
    "random_start": Op("mk.random_start", ("x0",), _start_ref, scaled(START_TOL, "x0", "eps"), random=True),
    "bit_depth": Op(
        "mk.bit_depth",
        ("x",),
        lambda c: ref.bit_depth(_x("x")(c), int(c["bits"]), clip=clip_of(c)),
        lambda c, d: "level",
    ),
    "median_filter": Op("mk.median_filter", ("x",), _median_ref, lambda c, d: "exact", out="disjoint"),
    "non_local_means": Op(
        "mk.non_local_means",
        ("x",),
        lambda c: ref.non_local_means(
            _x("x")(c),
            h=float(c["h"]),
            template_size=int(c["template_size"]),
            search_size=int(c["search_size"]),
            layout=c["layout"],
        ),
        lambda c, d: "pixel" if d == np.uint8 else dict(rtol=1e-5, atol=2e-3 * magnitude(c["x"])),
        out="disjoint",
    ),
    "gaussian_noise": Op(
        "mk.gaussian_noise",
        ("x",),
        _noise_ref("gaussian"),
        scaled(NOISE_TOL, "x", "sigma", weights=dict(sigma=8)),
        random=True,
    ),
    "uniform_noise": Op("mk.uniform_noise", ("x",), _noise_ref("uniform"), scaled(NOISE_TOL, "x", "eps"), random=True),
    "random_resize_pad": Op(
        "mk.random_resize_pad", ("x",), _rrp_ref, exact_ints(scaled(RESIZE_TOL, "x")), random=True, out="disjoint"
    ),
    "pixel_deflection": Op("mk.pixel_deflection", ("x",), _deflect_ref, lambda c, d: "exact", random=True),
    "random_raw": Op("mk.rng.random_raw", (), _rng_ref("random_raw"), lambda c, d: "exact", random=True),
    "uniform": Op("mk.rng.uniform", (), _rng_ref("uniform"), lambda c, d: "exact", random=True),
    "normal": Op("mk.rng.normal", (), _rng_ref("normal"), lambda c, d: dict(rtol=4e-7, atol=1e-6), random=True),
    "reverse_sigmoid": Op(
        "mk.output.reverse_sigmoid",
        ("p",),
        lambda c: ref.output.reverse_sigmoid(_x("p")(c), beta=c["beta"], gamma=c["gamma"]),
        RS_TOL,
    ),
    "output_noise": Op(
        "mk.output.gaussian_noise",
        ("p",),
        _output_noise_ref,
        scaled(ONOISE_TOL, "p", "scale", weights=dict(scale=8)),
        random=True,
    ),
    "round": Op(
        "mk.output.round",
        ("p",),
        # (NumPy takes decimals below 2**31; from 309 on 10**decimals is inf and x * inf / inf NaN)
        lambda c: ref.output.round(_x("p")(c), decimals=min(int(c["decimals"]), 400)),
        lambda c, d: "exact",
    ),
    "high_confidence": Op(
        "mk.output.high_confidence",
        ("p",),
        lambda c: ref.output.high_confidence(_x("p")(c), cutoff=c["cutoff"]),
        lambda c, d: "exact",
    ),
    "top_k": Op(
        "mk.output.top_k",
        ("p",),
        lambda c: ref.output.top_k(_x("p")(c), int(c["k"]), one_hot=bool(c["one_hot"])),
        lambda c, d: "exact",
    ),
    "class_labels": Op(
        "mk.output.class_labels", ("p",), lambda c: ref.output.class_labels(_x("p")(c)), lambda c, d: "exact"
    ),
}


# ops that compute in floating point: float64 results for integer data
FLOAT_RESULT = ("bit_depth", "gaussian_noise", "uniform_noise")


def defaults(op):
    """The op's keyword defaults, from its signature."""
    sig = inspect.signature(OPS[op].fn())
    return {k: p.default for k, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}


def result_spec(op, c):
    """(shape, dtype) the op must return for the arguments in c (valid ones)."""
    if op in ("random_raw", "uniform", "normal"):
        s = c.get("shape", c.get("n"))
        shape = (int(s),) if np.ndim(s) == 0 else tuple(int(v) for v in s)
        o = None if c.get("out") is None else as_array(c["out"])
        if op == "random_raw":
            return shape, np.dtype(np.uint32)
        if c["dtype"] is not None:
            try:
                return shape, np.dtype(c["dtype"])
            except TypeError:
                pass  # a wrong dtype (the table refuses it); out's shape is still checked
        if o is not None and native(o.dtype) in (np.float32, np.float64):
            return shape, native(o.dtype)  # dtype=None: out's float dtype
        return shape, np.dtype(np.float32)
    first = as_array(c[OPS[op].arrays[0]])
    dtype = native(first.dtype)
    if op in FLOAT_RESULT and dtype.kind in "iu":
        dtype = np.dtype(np.float64)  # computed in floating point: integer data gives float64
    if op == "random_resize_pad":
        s, n = int(c["out_size"]), first.shape[0]
        ch = first.shape[1] if c["layout"] == "NCHW" else first.shape[3]
        return ((n, ch, s, s) if c["layout"] == "NCHW" else (n, s, s, ch)), dtype
    return first.shape, dtype
